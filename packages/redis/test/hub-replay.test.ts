// Two hubs on one Redis (two brokers: what two processes hold), over real HTTP streams: a client resumes
// on one hub with its Last-Event-ID while the other publishes without pause. The replay from Redis and the
// live events that arrive while it is read must join without a gap or a duplicate.
import { createHub, type Hub, type HubOptions } from '@herald/sse-core'
import { afterEach, describe, expect, it } from 'vitest'
import { createRedisBroker } from '../src/broker.js'
import { dropNamespace, REDIS_URL, redisOrSkip, uniqueNamespace } from '../src/test-utils/redis.js'
import { type Cleanup, serve, stream, until } from './http.js'

const available = await redisOrSkip()
const cleanup: Cleanup = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

function hubOn(namespace: string, options: HubOptions = {}): Hub {
  const hub = createHub({
    broker: createRedisBroker({ url: REDIS_URL, namespace }),
    heartbeatMs: 0,
    ...options,
  })
  cleanup.push(() => hub.close())
  return hub
}

/** The `data:` values of a stream's events, in order. */
const dataOf = (text: string) => [...text.matchAll(/^data: (.*)$/gm)].map((m) => m[1])

describe.skipIf(!available)('resuming on another process while events keep coming', () => {
  it('replays from Redis and joins the live events without a gap or a duplicate, over several topics', async () => {
    const namespace = uniqueNamespace()
    cleanup.push(() => dropNamespace(namespace))
    const publisher = hubOn(namespace)
    const server = hubOn(namespace)
    const url = await serve(server, cleanup)

    // Events on two topics (and some on both); the client saw up to `lastSeen`.
    const ids: string[] = []
    const topicsOf = (i: number) => (i % 5 === 0 ? ['a', 'b'] : i % 2 ? ['a'] : ['b'])
    for (let i = 0; i < 50; i++) ids.push(await publisher.publish(topicsOf(i), { data: String(i) }))
    const lastSeen = ids[19]!

    // The publisher keeps going, pipelined, while the client resumes on the other hub.
    let next = 50
    let publishing = true
    const pump = (async () => {
      while (publishing) {
        const burst = []
        for (let k = 0; k < 20; k++, next++)
          burst.push(publisher.publish(topicsOf(next), { data: String(next) }))
        await Promise.all(burst)
        await new Promise((r) => setImmediate(r))
      }
    })()
    const resumed = await stream(`${url}/?topic=a&topic=b`, cleanup, lastSeen)
    expect(resumed.status).toBe(200)
    await new Promise((r) => setTimeout(r, 500))
    publishing = false
    await pump
    const total = next
    await until(() => dataOf(resumed.text()).at(-1) === String(total - 1), 'the last event')
    // Every event after the one it saw, each once, in publish order: replayed ones first, then live ones.
    expect(dataOf(resumed.text())).toEqual(Array.from({ length: total - 20 }, (_, i) => String(20 + i)))
    expect(resumed.text()).not.toContain('event: reset')
  })
})

describe.skipIf(!available)('a first subscriber on a topic new to its process', () => {
  it('gets every event published once it is told it is connected, even from another process at once', async () => {
    const namespace = uniqueNamespace()
    cleanup.push(() => dropNamespace(namespace))
    const publisher = hubOn(namespace)
    // The connected event is held until Redis acknowledged the new topic's SUBSCRIBE.
    const server = hubOn(namespace, { connectedEvent: 'connected' })
    const url = await serve(server, cleanup)
    for (let i = 0; i < 20; i++) {
      const topic = `fresh-${i}`
      const s = await stream(`${url}/?topic=${topic}`, cleanup)
      await until(() => s.text().includes('event: connected'), 'the connected event')
      await publisher.publish(topic, { data: `first on ${topic}` })
      await until(() => s.text().includes(`data: first on ${topic}`), `the first event on ${topic}`, 3000)
    }
  })
})
