import { HeraldConfigError } from '../errors.js'
import { encodeEvent } from '../protocol/encode.js'
import type { Sink, StreamOptions, Subscription } from '../types.js'

/** The event a stream ends with when its authorization expires; publishers may not send it (hub rules). */
export const EXPIRED_EVENT = 'expired'

/** When a stream must end, and why: its lifetime ran out, or the credentials it was admitted with expire. */
export interface StreamDeadline {
  /** Milliseconds since the Unix epoch. */
  at: number
  reason: 'lifetime' | 'expired'
}

/** The stream options this file reads. */
export type LifetimeOptions = Pick<
  StreamOptions<unknown>,
  'maxLifetimeMs' | 'lifetimeJitter' | 'lifetimeRetryMs' | 'expiredEvent'
>

// setTimeout fires at once (with a warning) past this; longer waits are taken in steps.
const MAX_TIMER_MS = 2 ** 31 - 1

/** `StreamOptions` lifetime settings, checked; throws `HeraldConfigError` naming the bad one. */
export function resolveLifetime(options: LifetimeOptions): {
  maxLifetimeMs: number | undefined
  jitter: number
  retryMs: number
  expiredEvent: string
} {
  const {
    maxLifetimeMs,
    lifetimeJitter = 0.2,
    lifetimeRetryMs = 1000,
    expiredEvent = EXPIRED_EVENT,
  } = options
  if (maxLifetimeMs !== undefined && (!Number.isSafeInteger(maxLifetimeMs) || maxLifetimeMs < 1)) {
    throw new HeraldConfigError('maxLifetimeMs', `must be an integer >= 1, got ${String(maxLifetimeMs)}`)
  }
  if (typeof lifetimeJitter !== 'number' || !(lifetimeJitter >= 0 && lifetimeJitter < 1)) {
    throw new HeraldConfigError('lifetimeJitter', `must be a number from 0 up to (not including) 1`)
  }
  if (!Number.isSafeInteger(lifetimeRetryMs) || lifetimeRetryMs < 0) {
    throw new HeraldConfigError('lifetimeRetryMs', `must be an integer >= 0, got ${String(lifetimeRetryMs)}`)
  }
  if (typeof expiredEvent !== 'string' || expiredEvent === '' || /[\r\n\0]/.test(expiredEvent)) {
    throw new HeraldConfigError('expiredEvent', 'must be a non-empty string without CR, LF or NUL')
  }
  return { maxLifetimeMs, jitter: lifetimeJitter, retryMs: lifetimeRetryMs, expiredEvent }
}

/**
 * The earlier of the stream's lifetime (shortened at random by up to `jitter`, so streams opened together
 * do not all end together) and the expiry `authorize` gave. Undefined: the stream has no deadline.
 */
export function streamDeadline(
  options: LifetimeOptions,
  expiresAt: number | undefined,
  now = Date.now(),
): StreamDeadline | undefined {
  const { maxLifetimeMs, jitter } = resolveLifetime(options)
  let deadline: StreamDeadline | undefined
  if (maxLifetimeMs !== undefined) {
    deadline = { at: now + Math.round(maxLifetimeMs * (1 - jitter * Math.random())), reason: 'lifetime' }
  }
  if (expiresAt !== undefined && (!deadline || expiresAt <= deadline.at)) {
    deadline = { at: expiresAt, reason: 'expired' }
  }
  return deadline
}

/**
 * Ends `subscription` at `deadline`: a lifetime end sends a `retry:` hint (the client reconnects and
 * resumes with Last-Event-ID), an expiry sends the `expiredEvent` (the client renews its credentials before
 * reconnecting: a reconnect with the old ones would be refused). The timer goes when the stream does.
 */
export function endAtDeadline(
  subscription: Subscription,
  sink: Sink,
  deadline: StreamDeadline,
  options: LifetimeOptions,
): void {
  const { retryMs, expiredEvent } = resolveLifetime(options)
  let timer: ReturnType<typeof setTimeout> | undefined
  const arm = () => {
    const wait = deadline.at - Date.now()
    if (wait > MAX_TIMER_MS) {
      timer = setTimeout(arm, MAX_TIMER_MS)
    } else {
      timer = setTimeout(
        () => {
          if (sink.closed) return
          // Frames still queued behind a full connection follow it; the hint or the event is never lost.
          sink.write(
            deadline.reason === 'lifetime'
              ? encodeEvent({ retry: retryMs })
              : encodeEvent({ event: expiredEvent, data: '' }),
          )
          subscription.close()
        },
        Math.max(0, wait),
      )
    }
    // A deadline never keeps a process alive on its own.
    timer.unref?.()
  }
  arm()
  sink.onClose(() => clearTimeout(timer))
}
