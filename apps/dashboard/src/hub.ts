import {
  createHub,
  HeraldBrokerError,
  type Hub,
  type HubOptions,
  type PublishMessage,
} from '@herald/sse-core'
import { createRedisBroker } from '@herald/sse-redis'

/** Topic of build events: `build-started`, `stage`, `progress`, `log`, `build-finished`. */
export const TOPIC_BUILDS = 'builds'
/** Topic of the once-a-second `metrics` event. */
export const TOPIC_METRICS = 'metrics'
/** `retry:` hint (ms) sent on connect and on shutdown: how soon browsers come back. */
export const RETRY_MS = 1000

/** History the dashboard keeps: a 40 s build logs about a thousand lines; a minute of ten builds at once. */
const HISTORY = { maxEvents: 50_000, maxAgeMs: 10 * 60_000 }

/**
 * The one place the dashboard's hub is created. In memory by default. With `REDIS_URL` set it runs on the
 * Redis broker (namespace `REDIS_NAMESPACE`, default `herald-dashboard`): several dashboard processes then
 * share builds, metrics, ids and replay, and a browser can resume on any of them. A `broker` in
 * `overrides` wins over both (it brings its own history and ids).
 */
export function createDashboardHub(overrides: HubOptions = {}, env = process.env): Hub {
  const broker =
    overrides.broker ??
    (env.REDIS_URL
      ? createRedisBroker({
          url: env.REDIS_URL,
          namespace: env.REDIS_NAMESPACE || 'herald-dashboard',
          history: HISTORY,
        })
      : undefined)
  return createHub({
    retryMs: RETRY_MS,
    // The memory broker's history; another broker is configured on the broker itself.
    ...(broker ? { broker } : { history: HISTORY }),
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
