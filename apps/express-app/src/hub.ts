import { createHub, type Hub, type HubOptions } from '@herald/sse-core'
import { createRedisBroker } from '@herald/sse-redis'

/**
 * The app's hub. In memory by default. With `REDIS_URL` set, it runs on the Redis broker, so every instance
 * started with the same `REDIS_URL` and `REDIS_NAMESPACE` (default `herald-samples`, shared by the four
 * sample apps) shares topics, live events, ids and Last-Event-ID replay, whatever its framework.
 */
export function createAppHub(options: HubOptions = {}, env = process.env): Hub {
  if (!env.REDIS_URL) return createHub(options)
  const broker = createRedisBroker({ url: env.REDIS_URL, namespace: env.REDIS_NAMESPACE || 'herald-samples' })
  return createHub({ ...options, broker })
}
