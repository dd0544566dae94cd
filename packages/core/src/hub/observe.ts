import { HeraldConfigError } from '../errors.js'
import type { Hub } from '../types.js'

/**
 * The logger the `logger` hub option takes: pino's shape (`logger.info(fields, message)`), which bunyan,
 * pino children and most structured loggers share.
 */
export interface HeraldLogger {
  error(fields: object, message: string): void
  warn(fields: object, message: string): void
  info(fields: object, message: string): void
  debug(fields: object, message: string): void
}

/** Why a stream request was refused. */
export type RefusalReason =
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'too-many-subscribers'
  | 'client-limit'
  | 'closed'

/** What `observeHub` reports, for metrics libraries. Every callback is optional and must not throw. */
export interface HubObserver {
  /** One event frame reached a subscriber's sink: milliseconds since it was published. */
  delivery?(latencyMs: number): void
  /** A stream request was refused (by `admitStream`, or by the hub's limits). */
  refusal?(reason: RefusalReason): void
}

/** The hub's logger and observers, as its parts see them. */
export class Observers {
  /** Set while some observer wants latencies: the delivery path checks this one field. */
  delivery: ((latencyMs: number) => void) | undefined
  private readonly list = new Set<HubObserver>()

  constructor(readonly logger: HeraldLogger | undefined) {}

  add(observer: HubObserver): () => void {
    this.list.add(observer)
    this.update()
    return () => {
      this.list.delete(observer)
      this.update()
    }
  }

  refusal(reason: RefusalReason, fields: Record<string, unknown>): void {
    for (const observer of this.list) observer.refusal?.(reason)
    const logger = this.logger
    if (!logger) return
    // Limits say the server is full (an operator acts); the others are the client's business.
    if (reason === 'too-many-subscribers' || reason === 'client-limit') {
      logger.warn({ ...fields, reason }, 'herald: stream refused')
    } else if (reason === 'closed') logger.debug({ ...fields, reason }, 'herald: stream refused')
    else logger.info({ ...fields, reason }, 'herald: stream refused')
  }

  private update(): void {
    const wanted = [...this.list].filter((o) => typeof o.delivery === 'function')
    if (wanted.length === 0) this.delivery = undefined
    else if (wanted.length === 1) this.delivery = (ms) => wanted[0]!.delivery!(ms)
    else
      this.delivery = (ms) => {
        for (const o of wanted) o.delivery!(ms)
      }
  }
}

const LEVELS = ['error', 'warn', 'info', 'debug'] as const

/** Checks the `logger` option: an object with `error`, `warn`, `info` and `debug` methods. */
export function checkLogger(value: unknown): HeraldLogger | undefined {
  if (value === undefined) return undefined
  const missing =
    value === null || typeof value !== 'object'
      ? 'error'
      : LEVELS.find((level) => typeof (value as Record<string, unknown>)[level] !== 'function')
  if (missing) {
    throw new HeraldConfigError(
      'logger',
      `must be a pino-compatible logger with error, warn, info and debug methods (no ${missing}())`,
    )
  }
  return value as HeraldLogger
}

const registered = new WeakMap<Hub, Observers>()

/** @internal Ties a hub to its observers (called by `createHub`). */
export function registerObservers(hub: Hub, observers: Observers): void {
  registered.set(hub, observers)
}

/**
 * Attaches `observer` to a hub made by `createHub`: delivery latencies and refusal reasons, which
 * `hub.metrics()` does not carry. Returns a function that detaches it. `@herald/sse-prometheus` uses this.
 */
export function observeHub(hub: Hub, observer: HubObserver): () => void {
  const observers = registered.get(hub)
  if (!observers) throw new HeraldConfigError('hub', 'must be a hub made by createHub')
  if (observer === null || typeof observer !== 'object') {
    throw new HeraldConfigError('observer', 'must be an object with delivery() and/or refusal()')
  }
  return observers.add(observer)
}

/** @internal A refusal decided outside the hub (by `admitStream`), reported to the hub's observers and logger. */
export function reportRefusal(hub: Hub, reason: RefusalReason, fields: Record<string, unknown>): void {
  registered.get(hub)?.refusal(reason, fields)
}
