import { HeraldClosedError, HeraldLimitError } from '../errors.js'
import type { AdmissionRefusal, HubMetrics } from '../types.js'
import type { ResolvedHubOptions } from './options.js'
import type { SubscriberRegistry } from './registry.js'

/** Retry-After (seconds) for refusals over a subscriber limit. */
export const LIMIT_RETRY_AFTER_SECONDS = 5

/**
 * Whether the hub takes another subscriber: not once it is closed, not past `maxSubscribers`, not past
 * `maxSubscribersPerClient` for the client's key. Every refusal is counted in `metrics.refused`.
 */
export class AdmissionControl {
  /** Set by `close()`: no new subscriber and no publish from then on. */
  closed = false
  /** Retry-After of refusals once closed: the close's `retryMs`, in seconds, when given. */
  closedRetryAfter = LIMIT_RETRY_AFTER_SECONDS

  constructor(
    private readonly options: ResolvedHubOptions,
    private readonly registry: SubscriberRegistry,
    private readonly metrics: HubMetrics,
  ) {}

  /** Why a subscriber with `clientKey` would be refused now (counted), or null. */
  check(clientKey: string | undefined): AdmissionRefusal | null {
    const refused = this.refusal(clientKey)
    if (refused) {
      const counts = this.metrics.refused
      if (refused.code === 'ERR_HERALD_CLOSED') counts.closed++
      else if (refused.code === 'ERR_HERALD_TOO_MANY_SUBSCRIBERS') counts.limit++
      else counts.clientLimit++
    }
    return refused
  }

  /** Throws `HeraldClosedError` or `HeraldLimitError` (counted) unless a subscriber would be admitted. */
  admit(clientKey: string | undefined): void {
    const refused = this.check(clientKey)
    if (!refused) return
    if (refused.code === 'ERR_HERALD_CLOSED')
      throw new HeraldClosedError(refused.reason, refused.retryAfterSeconds)
    throw new HeraldLimitError(refused.code, refused.status, refused.reason, refused.retryAfterSeconds)
  }

  private refusal(clientKey: string | undefined): AdmissionRefusal | null {
    if (this.closed) {
      return {
        status: 503,
        code: 'ERR_HERALD_CLOSED',
        reason: 'The server is shutting down; reconnect later.',
        retryAfterSeconds: this.closedRetryAfter,
      }
    }
    if (this.registry.count() >= this.options.maxSubscribers) {
      return {
        status: 503,
        code: 'ERR_HERALD_TOO_MANY_SUBSCRIBERS',
        reason: 'Too many subscribers on this server; retry later.',
        retryAfterSeconds: LIMIT_RETRY_AFTER_SECONDS,
      }
    }
    if (
      clientKey !== undefined &&
      this.registry.clientCount(clientKey) >= this.options.maxSubscribersPerClient
    ) {
      return {
        status: 429,
        code: 'ERR_HERALD_CLIENT_LIMIT',
        reason: 'Too many streams from this client; close one or retry later.',
        retryAfterSeconds: LIMIT_RETRY_AFTER_SECONDS,
      }
    }
    return null
  }
}
