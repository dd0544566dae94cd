import {
  createHub,
  HeraldBrokerError,
  type Hub,
  type HubOptions,
  type PublishMessage,
} from '@herald/sse-core'

/** Topic of build events: `build-started`, `stage`, `progress`, `log`, `build-finished`. */
export const TOPIC_BUILDS = 'builds'
/** Topic of the once-a-second `metrics` event. */
export const TOPIC_METRICS = 'metrics'
/** `retry:` hint (ms) sent on connect and on shutdown: how soon browsers come back. */
export const RETRY_MS = 1000

/**
 * The one place the dashboard's hub is created. The default keeps everything in memory; pass a shared
 * `broker` (which brings its own history and ids) to serve the same events from several processes, and
 * nothing else changes.
 */
export function createDashboardHub(overrides: HubOptions = {}): Hub {
  return createHub({
    retryMs: RETRY_MS,
    // A 40 s build logs about a thousand lines; keep enough to replay a minute of ten builds at once.
    // (The memory broker's history: another broker is configured on the broker itself.)
    ...(overrides.broker ? {} : { history: { maxEvents: 50_000, maxAgeMs: 10 * 60_000 } }),
    heartbeatMs: 15_000,
    // Lets the page tell a fresh connection from a resumed one.
    connectedEvent: 'connected',
    ...overrides,
  })
}

/**
 * Publishes without waiting for the id. While a shared broker is down the event is not sent (the broker
 * reports the outage, and subscribers get a `gap` event when it is back); any other failure is a bug and
 * surfaces as an uncaught error.
 */
export function publishAndForget(hub: Hub, topic: string, message: PublishMessage): void {
  hub.publish(topic, message).catch((error: unknown) => {
    if (error instanceof HeraldBrokerError) return
    queueMicrotask(() => {
      throw error
    })
  })
}
