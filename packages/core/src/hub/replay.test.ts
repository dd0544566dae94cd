import {
  createSwitchableBroker,
  handler,
  openStream,
  type StreamClient,
  startServer,
  type TestServer,
  TRANSPORTS,
  useHubServer,
  waitFor,
} from '@herald/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryBroker } from '../broker/memory.js'
import type { Broker, BrokerEntry, BrokerListener } from '../broker/types.js'
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

describe.each(TRANSPORTS)('resuming several topics from one Last-Event-ID over the %s sink', (transport) => {
  const served = useHubServer(transport)

  it.each(['memory', 'remote'] as const)(
    'a %s broker: each missed event once, in publish order, then the live ones',
    async (kind) => {
      const broker =
        kind === 'memory'
          ? createMemoryBroker({ epoch: 'mt' })
          : createSwitchableBroker({ epoch: 'mt', replayDelayMs: 50 })
      const hub = await served.serve({ broker, heartbeatMs: 0 })
      const published: { id: string; topics: string[]; data: string }[] = []
      const publish = async (topics: string[], data: string) => {
        published.push({ id: await hub.publish(topics, { data }), topics, data })
      }
      // Seen by the client before it went away: up to `b1`.
      await publish(['a'], 'a1')
      await publish(['a', 'b'], 'ab1')
      await publish(['b'], 'b1')
      const lastSeen = published.at(-1)!.id
      // Missed: on one topic, on both, on neither (c), on one of them and another.
      await publish(['b'], 'b2')
      await publish(['c'], 'c1')
      await publish(['a', 'b'], 'ab2')
      await publish(['a', 'c'], 'ac1')
      await publish(['a'], 'a2')
      const s = await served.open('/?topic=a&topic=b', { headers: { 'last-event-id': lastSeen } })
      await waitFor(() => hub.subscriberCount() === 1, 'the subscriber')
      // Published while a remote broker is still answering the replay: held, then sent after it, once.
      await publish(['b', 'a'], 'ab3')
      await publish(['c'], 'c2')
      await publish(['a'], 'a3')
      const wanted = published
        .slice(published.findIndex((e) => e.id === lastSeen) + 1)
        .filter((e) => e.topics.includes('a') || e.topics.includes('b'))
      const missed = (await s.waitForEvents(wanted.length)).map((e) => e.data)
      expect(missed).toEqual(['b2', 'ab2', 'ac1', 'a2', 'ab3', 'a3'])
      await publish(['b'], 'b4')
      await s.waitForEvents(wanted.length + 1)
      expect(s.events.map((e) => [e.id, e.data])).toEqual([
        ...wanted.map((e) => [e.id, e.data]),
        [published.at(-1)!.id, 'b4'],
      ])
      // The remote broker answered after ab3 and a3: its replay has them too, and the held copies are dropped.
      expect(hub.metrics()).toMatchObject({ replayed: kind === 'memory' ? 4 : 6, resets: 0 })
    },
  )
})

describe('a live event the broker delivers after the replay that had it', () => {
  const served = useHubServer('node')

  it('is dropped: the client gets it once', async () => {
    const inner = createMemoryBroker({ epoch: 'lag' })
    let listener: BrokerListener | undefined
    let late: BrokerEntry | undefined
    // A remote broker whose live channel lags its history: the entry arrives live after the replay.
    const lagging: Broker = {
      ...slowBroker(inner),
      attach: (l) => {
        listener = l
        inner.attach(l)
      },
      replay: async (topics, lastEventId) => {
        const r = await inner.replay(topics, lastEventId)
        if (r.kind === 'events') late = r.entries.at(-1)
        setTimeout(() => late && listener!.deliver(late), 10)
        return r
      },
    }
    const hub = await served.serve({ broker: lagging, heartbeatMs: 0 })
    const first = await hub.publish('t', { data: 'one' })
    await hub.publish('t', { data: 'two' })
    const s = await served.open('/?topic=t', { headers: { 'last-event-id': first } })
    await s.waitForEvents(1)
    await new Promise((r) => setTimeout(r, 30))
    await hub.publish('t', { data: 'three' })
    await s.waitForEvents(2)
    expect(late?.id).toBe('lag-2')
    expect(s.events.map((e) => [e.id, e.data])).toEqual([
      ['lag-2', 'two'],
      ['lag-3', 'three'],
    ])
  })
})
