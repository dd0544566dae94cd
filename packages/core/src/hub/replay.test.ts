import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryBroker } from '../broker/memory.js'
import type { Broker } from '../broker/types.js'
import { openStream, type StreamClient } from '../test-utils/stream-client.js'
import { startServer, type TestServer } from '../test-utils/test-server.js'
import { handler, TRANSPORTS } from '../test-utils/transports.js'
import { waitFor } from '../test-utils/wait.js'
import type { Hub } from '../types.js'
import { createHub } from './hub.js'

/**
 * A broker that answers lookups after a random delay, as a remote one (Redis) does, and publishes
 * through a promise (no synchronous fast path).
 */
function slowBroker(inner: Broker): Broker {
  return {
    attach: (listener) => inner.attach(listener),
    publish: (event) => inner.publish(event),
    watch: (topic) => inner.watch(topic),
    unwatch: (topic) => inner.unwatch(topic),
    compare: inner.compare,
    replay: (topics, lastEventId) =>
      new Promise((resolve) =>
        setTimeout(() => resolve(inner.replay(topics, lastEventId)), Math.random() * 25),
      ),
    close: () => inner.close(),
  }
}

const seqOf = (id: string | undefined) => Number(id?.split('-').pop())
const TOPIC_SETS = [['a'], ['b'], ['a', 'b']]
const PUBLISH_TO: (string | string[])[] = ['a', 'b', ['a', 'b'], 'c']

describe.each(TRANSPORTS)('replay race over the %s sink', (transport) => {
  let server: TestServer | undefined
  let hub: Hub | undefined
  afterEach(async () => {
    await hub?.close()
    await server?.close()
  })

  it.each(['synchronous', 'asynchronous'])(
    'a %s store: 100 clients reconnecting with random ids see no gap and no duplicate',
    async (kind) => {
      const memory = createMemoryBroker({
        epoch: 'race',
        history: { maxEvents: 100_000, maxAgeMs: Number.POSITIVE_INFINITY },
      })
      hub = createHub({ broker: kind === 'synchronous' ? memory : slowBroker(memory) })
      server = await startServer(handler(transport, hub))
      const log: { seq: number; topics: string[] }[] = []
      const publish = async () => {
        const topics = PUBLISH_TO[log.length % PUBLISH_TO.length]!
        const id = await hub!.publish(topics, { data: `n${log.length}` })
        log.push({ seq: seqOf(id), topics: typeof topics === 'string' ? [topics] : topics })
      }
      for (let i = 0; i < 300; i++) await publish()
      let publishing = true
      const producer = (async () => {
        while (publishing) {
          for (let i = 0; i < 3; i++) await publish()
          await new Promise((r) => setTimeout(r, 1))
        }
      })()

      const expectedAfter = (start: number, topics: string[], upTo: number) =>
        log
          .filter((e) => e.seq > start && e.seq <= upTo && e.topics.some((t) => topics.includes(t)))
          .map((e) => e.seq)

      let resets = 0
      const client = async (n: number) => {
        for (let round = 0; round < 3; round++) {
          const topics = TOPIC_SETS[(n + round) % TOPIC_SETS.length]!
          const foreign = (n + round) % 10 === 0
          const start = foreign ? -1 : log[Math.floor(Math.random() * log.length)]!.seq
          const lastEventId = foreign ? 'other-epoch-5' : `race-${start}`
          const query = topics.map((t) => `topic=${t}`).join('&')
          const stream: StreamClient = await openStream(`${server!.url}?${query}`, {
            headers: { 'last-event-id': lastEventId },
          })
          const target = log.length + 15
          await waitFor(
            () => seqOf(stream.events.at(-1)?.id) >= (log[target]?.seq ?? Number.POSITIVE_INFINITY) - 30,
            `client ${n} to go live`,
            20_000,
          )
          stream.close()
          let from = start
          let events = stream.events
          if (foreign) {
            resets++
            expect(events[0]!.event).toBe('reset')
            from = seqOf(events[0]!.id)
            events = events.slice(1)
          }
          const seqs = events.map((e) => seqOf(e.id))
          expect(seqs).toEqual(expectedAfter(from, topics, seqs.at(-1) ?? from))
        }
      }
      try {
        await Promise.all(Array.from({ length: 100 }, (_, n) => client(n)))
      } finally {
        publishing = false
        await producer
      }
      expect(hub.metrics().resets).toBe(resets)
    },
    60_000,
  )
})

describe('history and replay through the hub', () => {
  it('gives a reset (and reports the error) when the broker fails a lookup', async () => {
    const errors: unknown[] = []
    const memory = createMemoryBroker({ epoch: 'f' })
    const failing: Broker = { ...slowBroker(memory), replay: () => Promise.reject(new Error('broker down')) }
    const hub = createHub({ broker: failing, onError: (e) => errors.push(e) })
    const server = await startServer(handler('node', hub))
    try {
      await hub.publish('t', { data: 'one' })
      await hub.publish('t', { data: 'two' })
      const s = await openStream(`${server.url}?topic=t`, { headers: { 'last-event-id': 'f-1' } })
      await s.waitForEvents(1)
      await hub.publish('t', { data: 'three' })
      await s.waitForEvents(2)
      // The broker gave no id to resume from: the reset carries none, the client keeps its own.
      expect(s.events.map((e) => [e.event, e.id])).toEqual([
        ['reset', undefined],
        [undefined, 'f-3'],
      ])
      expect(errors).toHaveLength(1)
      s.close()
    } finally {
      await hub.close()
      await server.close()
    }
  })
})
