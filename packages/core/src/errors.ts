/** Base class of every error Herald throws. `code` is stable and safe to branch on. */
export class HeraldError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** A field of an event breaks a rule of the event-stream format. Nothing was encoded or sent. */
export class HeraldEncodingError extends HeraldError {
  /** The offending field: `data`, `event`, `id`, `retry`, `comment` or `message` (the whole value). */
  readonly field: string
  constructor(field: string, code: string, rule: string) {
    super(code, `Invalid SSE ${field}: ${rule}`)
    this.field = field
  }
}

/** An option passed to a Herald factory is out of range or of the wrong type. */
export class HeraldConfigError extends HeraldError {
  readonly option: string
  constructor(option: string, rule: string) {
    super('ERR_HERALD_INVALID_OPTION', `Invalid option ${option}: ${rule}`)
    this.option = option
  }
}
