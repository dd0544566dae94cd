import { afterEach, describe, expect, it } from 'vitest'
import { openStream, type StreamClient } from '../test-utils/stream-client.js'
import { startServer, type TestServer } from '../test-utils/test-server.js'
import { handler, TRANSPORTS } from '../test-utils/transports.js'
import { waitFor } from '../test-utils/wait.js'
import type { HistoryStore, Hub } from '../types.js'
import { createMemoryStore } from './history.js'
import { createHub } from './hub.js'

/** A store that answers lookups after a random delay, as a remote one (Redis) does. */
function slowStore(inner: HistoryStore): HistoryStore {
  return {
    append: (event) => inner.append(event),
    since: (topics, afterSeq) =>
      new Promise((resolve) => setTimeout(() => resolve(inner.since(topics, afterSeq)), Math.random() * 25)),
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
      const memory = createMemoryStore({ maxEvents: 100_000, maxAgeMs: Number.POSITIVE_INFINITY })
      hub = createHub({ epoch: 'race', store: kind === 'synchronous' ? memory : slowStore(memory) })
      server = await startServer(handler(transport, hub))
      const log: { seq: number; topics: string[] }[] = []
      const publish = () => {
        const topics = PUBLISH_TO[log.length % PUBLISH_TO.length]!
        const id = hub!.publish(topics, { data: `n${log.length}` })
        log.push({ seq: seqOf(id), topics: typeof topics === 'string' ? [topics] : topics })
      }
      for (let i = 0; i < 300; i++) publish()
      let publishing = true
      const producer = (async () => {
        while (publishing) {
          for (let i = 0; i < 3; i++) publish()
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
  it('answers an id older than the retained history with a reset', () => {
    const store = createMemoryStore({ maxEvents: 3 })
    const first = 1
    for (let seq = 1; seq <= 5; seq++)
      store.append({ seq, topics: ['t'], bytes: new Uint8Array(1), time: Date.now() })
    expect(store.since(['t'], first)).toEqual({ kind: 'reset' })
    const kept = store.since(['t'], 2)
    expect(kept.kind === 'events' && kept.events.map((e) => e.seq)).toEqual([3, 4, 5])
  })

  it('forgets events by age', async () => {
    const store = createMemoryStore({ maxAgeMs: 50 })
    store.append({ seq: 1, topics: ['t'], bytes: new Uint8Array(1), time: Date.now() })
    const fresh = store.since(['t'], 0)
    expect(fresh.kind === 'events' && fresh.events.length).toBe(1)
    await new Promise((r) => setTimeout(r, 80))
    expect(store.since(['t'], 0)).toEqual({ kind: 'reset' })
    expect(store.since(['t'], 1)).toEqual({ kind: 'events', events: [] })
  })

  it('merges several topics in order, an event on both once', () => {
    const store = createMemoryStore()
    const at = Date.now()
    store.append({ seq: 1, topics: ['a'], bytes: new Uint8Array(1), time: at })
    store.append({ seq: 2, topics: ['a', 'b'], bytes: new Uint8Array(1), time: at })
    store.append({ seq: 3, topics: ['b'], bytes: new Uint8Array(1), time: at })
    store.append({ seq: 4, topics: ['c'], bytes: new Uint8Array(1), time: at })
    const r = store.since(['b', 'a'], 0)
    expect(r.kind === 'events' && r.events.map((e) => e.seq)).toEqual([1, 2, 3])
  })

  it('gives a reset (and reports the error) when the store fails a lookup', async () => {
    const errors: unknown[] = []
    const memory = createMemoryStore()
    const failing: HistoryStore = {
      append: (e) => memory.append(e),
      since: () => Promise.reject(new Error('store down')),
    }
    const hub = createHub({ epoch: 'f', store: failing, onError: (e) => errors.push(e) })
    const server = await startServer(handler('node', hub))
    try {
      hub.publish('t', { data: 'one' })
      hub.publish('t', { data: 'two' })
      const s = await openStream(`${server.url}?topic=t`, { headers: { 'last-event-id': 'f-1' } })
      await s.waitForEvents(1)
      hub.publish('t', { data: 'three' })
      await s.waitForEvents(2)
      expect(s.events.map((e) => [e.event, e.id])).toEqual([
        ['reset', 'f-2'],
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
