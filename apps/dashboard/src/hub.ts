import { createHub, type Hub, type HubOptions } from '@herald/sse-core'

/** Topic of build events: `build-started`, `stage`, `progress`, `log`, `build-finished`. */
export const TOPIC_BUILDS = 'builds'
/** Topic of the once-a-second `metrics` event. */
export const TOPIC_METRICS = 'metrics'
/** `retry:` hint (ms) sent on connect and on shutdown: how soon browsers come back. */
export const RETRY_MS = 1000

/**
 * The one place the dashboard's hub is created. The embedded default keeps everything in memory; give it a
 * durable `store` (a Redis-backed `HistoryStore`, say) and a fixed `epoch` to replay across process
 * restarts and instances, and nothing else changes.
 */
export function createDashboardHub(overrides: HubOptions = {}): Hub {
  return createHub({
    retryMs: RETRY_MS,
    // A 40 s build logs about a thousand lines; keep enough to replay a minute of ten builds at once.
    history: { maxEvents: 50_000, maxAgeMs: 10 * 60_000 },
    heartbeatMs: 15_000,
    // Lets the page tell a fresh connection from a resumed one.
    connectedEvent: 'connected',
    ...overrides,
  })
}
