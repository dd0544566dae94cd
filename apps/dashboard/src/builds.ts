import { HeraldConfigError, type Hub } from '@herald/sse-core'
import { BuildLimitError, BuildRequestError, BuildRunnerStoppedError } from './errors.js'
import { publishAndForget, TOPIC_BUILDS } from './hub.js'

/** The stages every simulated build goes through, in order. */
export const STAGES = ['checkout', 'install', 'test', 'deploy'] as const
export type Stage = (typeof STAGES)[number]

/** Share of a build's duration each stage takes; sums to 1. */
const STAGE_SHARE: Record<Stage, number> = { checkout: 0.08, install: 0.27, test: 0.45, deploy: 0.2 }
/** Log lines per simulated second at a stage's quietest moment; a burst in the middle triples it. */
const STAGE_RATE: Record<Stage, number> = { checkout: 6, install: 18, test: 26, deploy: 6 }
const TAIL_LINES = 100
const KEEP_FINISHED = 20

export type BuildStatus = 'running' | 'succeeded' | 'failed' | 'cancelled'

/** What a client may ask for: both fields optional. */
export interface BuildRequest {
  /** Shown on the card. 1–60 printable characters. Default: a generated service name. */
  name?: string
  /** Simulated duration in seconds, 5–300. Default: random between 20 and 60. */
  durationSeconds?: number
}

/** One log line. `seq` counts from 1 per build with no gaps, so a client can prove it saw every line. */
export interface LogLine {
  build: string
  seq: number
  stage: Stage
  level: 'info' | 'warn' | 'error'
  text: string
}

/** A build as `GET /api/builds` reports it, and as the `build-started` event carries it. */
export interface BuildSnapshot {
  id: string
  name: string
  status: BuildStatus
  stage: Stage
  /** 0–100, whole percent of the simulated duration. */
  percent: number
  durationSeconds: number
  startedAt: number
  finishedAt: number | null
  /** Log lines published so far (the last one's `seq`). */
  lines: number
}

export interface BuildRunnerOptions {
  /** Simulated seconds per real second: 10 runs a 30 s build in 3 s. Default 1. */
  speed?: number
  /** Builds allowed to run at once; one more is refused with `BuildLimitError`. Default 10. */
  maxConcurrent?: number
  /** Chance (0–1) that a build fails during its test stage. Default 0.1. */
  failureRate?: number
  /** Real milliseconds between ticks of the shared build clock. Default 50. */
  tickMs?: number
  /** Clock in milliseconds. Default `Date.now`. */
  now?: () => number
  /** Random numbers in [0, 1). Default `Math.random`. */
  random?: () => number
}

interface Build extends BuildSnapshot {
  stageIndex: number
  /** Simulated seconds already emitted. */
  emitted: number
  /** Fractional log lines carried over between ticks. */
  carry: number
  /** Simulated second at which the test stage fails, or null. */
  failAt: number | null
  tail: LogLine[]
}

const SERVICES = [
  'api-gateway',
  'billing',
  'checkout-web',
  'search',
  'notifications',
  'auth',
  'media',
  'ledger',
]
const PACKAGES = ['undici', 'zod', 'pino', 'hono', 'vitest', 'esbuild', 'typescript', 'fast-check', 'ioredis']
const SUITES = ['hub/fanout', 'hub/replay', 'protocol/encode', 'sink/node', 'sink/web', 'http/admission']
const CONTROL = /[\u0000-\u001f\u007f]/

function checkNumber(name: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new HeraldConfigError(name, `must be a number from ${min} to ${max}, got ${String(value)}`)
  }
  return value
}

/**
 * Validates an untrusted `POST /builds` body. Throws `BuildRequestError` naming the field and the rule;
 * unknown fields are refused rather than ignored.
 */
export function parseBuildRequest(body: unknown): BuildRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BuildRequestError('body', 'must be a JSON object like {"name":"api","durationSeconds":30}')
  }
  const request: BuildRequest = {}
  for (const [key, value] of Object.entries(body)) {
    if (key === 'name') {
      if (typeof value !== 'string')
        throw new BuildRequestError('name', `must be a string, got ${typeof value}`)
      const name = value.trim()
      if (name.length < 1 || name.length > 60)
        throw new BuildRequestError('name', 'must be 1 to 60 characters')
      if (CONTROL.test(name)) throw new BuildRequestError('name', 'must not contain control characters')
      request.name = name
    } else if (key === 'durationSeconds') {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 5 || value > 300) {
        throw new BuildRequestError(
          'durationSeconds',
          `must be a number from 5 to 300, got ${JSON.stringify(value)}`,
        )
      }
      request.durationSeconds = value
    } else {
      throw new BuildRequestError(key, 'is not a known field (allowed: name, durationSeconds)')
    }
  }
  return request
}

/**
 * Runs simulated builds and publishes everything they do on the `builds` topic:
 * `build-started` (a `BuildSnapshot`), `stage`, `progress`, `log` (a `LogLine`) and `build-finished`.
 *
 * It belongs with the hub, not with an HTTP server: builds keep running while a server restarts, and the
 * hub's history lets reconnecting browsers catch up. One shared timer drives every build.
 */
export class BuildRunner {
  readonly speed: number
  readonly maxConcurrent: number
  readonly #hub: Hub
  readonly #failureRate: number
  readonly #tickMs: number
  readonly #now: () => number
  readonly #random: () => number
  readonly #builds = new Map<string, Build>()
  #timer: ReturnType<typeof setInterval> | undefined
  #counter = 0
  #stopped = false
  // Ids stay unique across runners (a restarted process starts counting again): `k3x9-1`, `k3x9-2`, …
  readonly #idPrefix = Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0')

  constructor(hub: Hub, options: BuildRunnerOptions = {}) {
    this.#hub = hub
    this.speed = checkNumber('speed', options.speed ?? 1, 0.01, 1000)
    this.maxConcurrent = checkNumber('maxConcurrent', options.maxConcurrent ?? 10, 1, 1000)
    this.#failureRate = checkNumber('failureRate', options.failureRate ?? 0.1, 0, 1)
    this.#tickMs = checkNumber('tickMs', options.tickMs ?? 50, 5, 1000)
    this.#now = options.now ?? Date.now
    this.#random = options.random ?? Math.random
  }

  /** Builds running now. */
  get running(): number {
    let n = 0
    for (const b of this.#builds.values()) if (b.status === 'running') n++
    return n
  }

  /**
   * Starts a build (validate untrusted input with `parseBuildRequest` first). Throws `BuildLimitError`
   * when `maxConcurrent` builds are running, `BuildRunnerStoppedError` after `stop()` or once the hub closed.
   */
  start(request: BuildRequest = {}): BuildSnapshot {
    if (this.#stopped || this.#hub.closed) throw new BuildRunnerStoppedError()
    if (this.running >= this.maxConcurrent) throw new BuildLimitError(this.maxConcurrent)
    const n = ++this.#counter
    const durationSeconds = request.durationSeconds ?? Math.round(20 + this.#random() * 40)
    const fails = this.#random() < this.#failureRate
    const testStart = durationSeconds * (STAGE_SHARE.checkout + STAGE_SHARE.install)
    const build: Build = {
      id: `${this.#idPrefix}-${n}`,
      name: request.name ?? `${SERVICES[(n - 1) % SERVICES.length]} #${n}`,
      status: 'running',
      stage: 'checkout',
      stageIndex: 0,
      percent: 0,
      durationSeconds,
      startedAt: this.#now(),
      finishedAt: null,
      lines: 0,
      emitted: 0,
      carry: 0,
      failAt: fails ? testStart + durationSeconds * STAGE_SHARE.test * (0.3 + this.#random() * 0.6) : null,
      tail: [],
    }
    this.#builds.set(build.id, build)
    this.#publish('build-started', snapshotOf(build))
    this.#log(build, 'info', `$ herald-ci run ${build.name} (simulated, ${durationSeconds}s)`)
    this.#timer ??= setInterval(() => this.#tick(), this.#tickMs)
    // Builds alone do not keep a process alive: the HTTP server does.
    this.#timer.unref?.()
    return snapshotOf(build)
  }

  /** Every running build and the most recent finished ones, each with its last log lines. */
  snapshot(): {
    builds: Array<BuildSnapshot & { tail: LogLine[] }>
    running: number
    limit: number
    speed: number
  } {
    const builds = [...this.#builds.values()].map((b) => ({ ...snapshotOf(b), tail: [...b.tail] }))
    return { builds, running: this.running, limit: this.maxConcurrent, speed: this.speed }
  }

  /** Stops the clock; running builds end as `cancelled` (published while the hub is still open). */
  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    if (this.#hub.closed) return
    for (const b of this.#builds.values()) {
      if (b.status === 'running') this.#finish(b, 'cancelled', 'server shutting down: build cancelled')
    }
  }

  #tick(): void {
    // Someone closed the hub under us: nothing can be reported any more.
    if (this.#hub.closed) {
      this.stop()
      return
    }
    const now = this.#now()
    for (const build of this.#builds.values()) {
      if (build.status === 'running')
        this.#advance(build, Math.min(build.durationSeconds, ((now - build.startedAt) / 1000) * this.speed))
    }
    if (this.running === 0 && this.#timer) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }

  /** Emits what happened between `build.emitted` and `until` (simulated seconds), crossing stages as needed. */
  #advance(build: Build, until: number): void {
    while (build.status === 'running' && build.emitted < until) {
      const stageEnd = stageBoundary(build.durationSeconds, build.stageIndex)
      const segmentEnd = Math.min(until, stageEnd, build.failAt ?? Number.POSITIVE_INFINITY)
      const stage = build.stage
      const stageStart = stageBoundary(build.durationSeconds, build.stageIndex - 1)
      const mid = ((build.emitted + segmentEnd) / 2 - stageStart) / (stageEnd - stageStart)
      // A burst in the middle of each stage: the "many lines per second at peak" the page must keep up with.
      const rate = STAGE_RATE[stage] * (1 + 2 * Math.sin(Math.PI * Math.min(1, Math.max(0, mid))) ** 2)
      build.carry += rate * (segmentEnd - build.emitted)
      while (build.carry >= 1) {
        build.carry -= 1
        this.#log(build, ...lineFor(stage, build.lines, this.#random))
      }
      build.emitted = segmentEnd
      const percent = Math.floor((build.emitted / build.durationSeconds) * 100)
      if (percent > build.percent) {
        build.percent = percent
        this.#publish('progress', { build: build.id, percent })
      }
      if (build.failAt !== null && build.emitted >= build.failAt) {
        this.#log(
          build,
          'error',
          `FAIL ${SUITES[build.lines % SUITES.length]}.test.ts: expected 200, received 503`,
        )
        this.#finish(build, 'failed', 'tests failed: 1 failing suite')
      } else if (build.emitted >= stageEnd) {
        if (build.stageIndex === STAGES.length - 1) {
          this.#finish(build, 'succeeded', `deployed ${build.name} in ${build.durationSeconds}s (simulated)`)
        } else {
          build.stageIndex++
          build.stage = STAGES[build.stageIndex] as Stage
          this.#publish('stage', { build: build.id, stage: build.stage, index: build.stageIndex })
          this.#log(build, 'info', `==> stage ${build.stage}`)
        }
      }
    }
  }

  #finish(build: Build, status: BuildStatus, message: string): void {
    this.#log(build, status === 'succeeded' ? 'info' : 'error', message)
    build.status = status
    build.finishedAt = this.#now()
    this.#publish('build-finished', {
      build: build.id,
      status,
      percent: build.percent,
      lines: build.lines,
      finishedAt: build.finishedAt,
    })
    const finished = [...this.#builds.values()].filter((b) => b.status !== 'running')
    for (const old of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED)))
      this.#builds.delete(old.id)
  }

  #log(build: Build, level: LogLine['level'], text: string): void {
    const line: LogLine = { build: build.id, seq: ++build.lines, stage: build.stage, level, text }
    build.tail.push(line)
    if (build.tail.length > TAIL_LINES) build.tail.shift()
    this.#publish('log', line)
  }

  #publish(event: string, data: unknown): void {
    publishAndForget(this.#hub, TOPIC_BUILDS, { event, data: JSON.stringify(data) })
  }
}

function snapshotOf(b: Build): BuildSnapshot {
  const { id, name, status, stage, percent, durationSeconds, startedAt, finishedAt, lines } = b
  return { id, name, status, stage, percent, durationSeconds, startedAt, finishedAt, lines }
}

/** Simulated second at which stage `index` ends (index -1: 0). */
function stageBoundary(duration: number, index: number): number {
  let share = 0
  for (let i = 0; i <= index; i++) share += STAGE_SHARE[STAGES[i] as Stage]
  return index >= STAGES.length - 1 ? duration : duration * share
}

function pick<T>(list: readonly T[], random: () => number): T {
  return list[Math.floor(random() * list.length)] as T
}

function lineFor(stage: Stage, n: number, random: () => number): [LogLine['level'], string] {
  const ms = Math.floor(random() * 900) + 3
  switch (stage) {
    case 'checkout':
      return [
        'info',
        pick(
          [
            `Receiving objects: ${Math.min(100, n * 9)}% (${n * 131}/${n * 131 + 400})`,
            `Resolving deltas: ${Math.min(100, n * 11)}%`,
            `HEAD is now at ${Math.floor(random() * 0xfffffff)
              .toString(16)
              .padStart(7, '0')} ci: bump runner`,
          ],
          random,
        ),
      ]
    case 'install':
      return random() < 0.04
        ? ['warn', `WARN deprecated ${pick(PACKAGES, random)}@1.${n % 9}.0: use a newer major`]
        : [
            'info',
            pick(
              [
                `+ ${pick(PACKAGES, random)} ${1 + (n % 7)}.${n % 13}.${ms % 10}`,
                `Progress: resolved ${n * 7}, reused ${n * 6}, downloaded ${n}, added ${n * 5}`,
                `Downloading ${pick(PACKAGES, random)}-${n % 9}.${ms % 20}.0.tgz (${ms} kB)`,
              ],
              random,
            ),
          ]
    case 'test':
      return ['info', `✓ ${pick(SUITES, random)}.test.ts > case ${n} (${ms % 120} ms)`]
    case 'deploy':
      return [
        'info',
        pick(
          [
            `pushing layer sha256:${Math.floor(random() * 0xffffffff)
              .toString(16)
              .padStart(8, '0')}… ${ms} kB`,
            `rollout: ${Math.min(10, 1 + (n % 10))}/10 replicas ready`,
            `health check passed on pod web-${ms % 64} (${ms % 40} ms)`,
          ],
          random,
        ),
      ]
  }
}
