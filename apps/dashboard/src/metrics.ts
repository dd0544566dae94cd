import type { Hub } from '@herald/sse-core'
import { publishAndForget, TOPIC_METRICS } from './hub.js'

/** The `metrics` event's data. Rates are per second over the last interval. */
export interface DashboardMetrics {
  /** Open streams on the hub. */
  clients: number
  /** Events published per second (every topic). */
  eventsPerSecond: number
  /** Frames written to subscribers per second. */
  deliveredPerSecond: number
  published: number
  delivered: number
  /** Events replayed to reconnecting clients from history, since the hub started. */
  replayed: number
  /** Events dropped for slow consumers (`drop-oldest` or `latest`). */
  dropped: number
  slowConsumerDisconnects: number
  drainTimeouts: number
  runningBuilds: number
  time: number
}

export interface MetricsPublisherOptions {
  /** Default 1000 ms. */
  intervalMs?: number
  /** Builds running now, shown beside the hub's numbers. */
  runningBuilds?: () => number
  now?: () => number
}

/** Publishes `hub.metrics()` as a `metrics` event on the `metrics` topic every interval. Returns `stop`. */
export function publishMetrics(hub: Hub, options: MetricsPublisherOptions = {}): { stop(): void } {
  const { intervalMs = 1000, runningBuilds = () => 0, now = Date.now } = options
  let last = { time: now(), ...hub.metrics() }
  const timer = setInterval(() => {
    if (hub.closed) return
    const m = hub.metrics()
    const time = now()
    const seconds = Math.max(0.001, (time - last.time) / 1000)
    const data: DashboardMetrics = {
      clients: hub.subscriberCount(),
      eventsPerSecond: Math.round((m.published - last.published) / seconds),
      deliveredPerSecond: Math.round((m.delivered - last.delivered) / seconds),
      published: m.published,
      delivered: m.delivered,
      replayed: m.replayed,
      dropped: m.dropped + m.coalesced,
      slowConsumerDisconnects: m.slowConsumerDisconnects,
      drainTimeouts: m.drainTimeouts,
      runningBuilds: runningBuilds(),
      time,
    }
    last = { time, ...m }
    publishAndForget(hub, TOPIC_METRICS, { event: 'metrics', data: JSON.stringify(data) })
  }, intervalMs)
  timer.unref?.()
  return { stop: () => clearInterval(timer) }
}
