import { HeraldError } from '@herald/sse-core'

/** A `POST /builds` body (or a `BuildRunner.start` request) breaks a rule. Nothing was started. HTTP 400. */
export class BuildRequestError extends HeraldError {
  /** The offending field: `body`, `name` or `durationSeconds`, or the name of an unknown field. */
  readonly field: string
  readonly status = 400
  constructor(field: string, rule: string) {
    super('ERR_DASHBOARD_INVALID_BUILD', `Invalid build ${field}: ${rule}`)
    this.field = field
  }
}

/** As many builds as `maxConcurrent` are already running. Nothing was started. HTTP 429. */
export class BuildLimitError extends HeraldError {
  readonly status = 429
  readonly limit: number
  constructor(limit: number) {
    super(
      'ERR_DASHBOARD_TOO_MANY_BUILDS',
      `Too many concurrent builds (limit ${limit}); wait for one to finish`,
    )
    this.limit = limit
  }
}

/** The runner was stopped (the server is shutting down, or its hub closed). Nothing was started. HTTP 503. */
export class BuildRunnerStoppedError extends HeraldError {
  readonly status = 503
  constructor() {
    super('ERR_DASHBOARD_STOPPED', 'The build runner is stopped: the server is shutting down')
  }
}
