import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { useHubServer, waitFor } from '@herald/test-utils'
import { describe, expect, it } from 'vitest'
import { createHub } from '../hub/hub.js'
import { createMemoryHistory, type MemoryEntry } from './memory-history.js'

// A real collection, so the tests can see memory given back rather than a counter going down.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
/** Bytes of ArrayBuffers alive after a full collection (event frames over a few KiB own theirs). */
const liveBuffers = () => {
  gc()
  gc()
  return process.memoryUsage().arrayBuffers
}
const MiB = 1024 * 1024

const event = (seq: number, topics: string[], size: number, time = Date.now()): MemoryEntry => ({
  id: `m-${seq}`,
  seq,
  topics,
  frame: new Uint8Array(size),
  time,
})

describe('the memory history', () => {
  it('keeps at most maxBytes across topics, forgetting the oldest first', () => {
    const store = createMemoryHistory({ maxBytes: 10_000, maxAgeMs: Number.POSITIVE_INFINITY })
    for (let seq = 1; seq <= 100; seq++) store.append(event(seq, [`t${seq}`], 1000))
    expect(store.usage()).toEqual({ events: 10, bytes: 10_000 })
    // Topics whose events were evicted answer with a reset; the newest ten still replay.
    expect(store.since(['t90'], 0)).toBe('reset')
    expect(store.since(['t91'], 0)).toMatchObject([{ seq: 91 }])
    expect(store.since(['t100', 't95'], 90)).toMatchObject([{ seq: 95 }, { seq: 100 }])
  })

  it('counts an event on several topics once, and releases it when its last topic forgets it', () => {
    const store = createMemoryHistory({ maxEvents: 2, maxAgeMs: Number.POSITIVE_INFINITY })
    store.append(event(1, ['a', 'b'], 500))
    expect(store.usage()).toEqual({ events: 1, bytes: 500 })
    store.append(event(2, ['a'], 100))
    store.append(event(3, ['a'], 100)) // `a` forgets 1, `b` still lists it
    expect(store.usage()).toEqual({ events: 3, bytes: 700 })
    store.append(event(4, ['b'], 100))
    store.append(event(5, ['b'], 100)) // now `b` forgets 1 too
    expect(store.usage()).toEqual({ events: 4, bytes: 400 })
    expect(store.since(['a'], 1)).toMatchObject([{ seq: 2 }, { seq: 3 }])
    expect(store.since(['b'], 0)).toBe('reset')
  })

  it('keeps nothing of an event larger than maxBytes, and says so to a client that missed it', () => {
    const store = createMemoryHistory({ maxBytes: 1000 })
    store.append(event(1, ['t'], 400))
    store.append(event(2, ['t'], 5000))
    expect(store.usage()).toEqual({ events: 0, bytes: 0 })
    expect(store.since(['t'], 1)).toBe('reset')
    store.close()
  })

  it('forgets old events on its timer, without any traffic or lookup', async () => {
    const store = createMemoryHistory({ maxAgeMs: 100 })
    const old = Date.now() - 50
    for (let seq = 1; seq <= 20; seq++) store.append(event(seq, [`t${seq % 3}`], 100, old))
    store.append(event(21, ['t1'], 100, old + 300))
    expect(store.usage()).toEqual({ events: 21, bytes: 2100 })
    await waitFor(() => store.usage().events === 1, 'the old events to expire', 2000)
    expect(store.usage()).toEqual({ events: 1, bytes: 100 })
    await waitFor(() => store.usage().events === 0, 'the last event to expire', 2000)
    expect(store.since(['t1'], 20)).toBe('reset')
    store.close()
  })

  it('rejects bad bounds naming the option', () => {
    expect(() => createMemoryHistory({ maxBytes: 0 })).toThrow(/Invalid option maxBytes/)
    expect(() => createMemoryHistory({ maxEvents: 1.5 })).toThrow(/Invalid option maxEvents/)
    expect(() => createHub({ history: { maxBytes: -1 } })).toThrow(/Invalid option history.maxBytes/)
  })
})

describe('hub history in memory (real figures)', () => {
  it('holds at most history.maxBytes of frames whatever is published', async () => {
    const hub = createHub({ history: { maxBytes: 4 * MiB }, heartbeatMs: 0 })
    const before = liveBuffers()
    const data = 'x'.repeat(60_000)
    for (let i = 0; i < 400; i++) await hub.publish(`topic-${i}`, { data })
    const { historyEvents, historyBytes } = hub.metrics()
    expect(historyBytes).toBeLessThanOrEqual(4 * MiB)
    expect(historyBytes).toBeGreaterThan(4 * MiB - 61_000)
    // Each frame is 60,000 bytes of data plus its id and field names.
    expect(historyEvents).toBeGreaterThanOrEqual(68)
    expect(historyEvents).toBeLessThanOrEqual(69)
    // 24 MB were published; what stays alive is the bound, not the total.
    const held = liveBuffers() - before
    expect(held).toBeLessThan(5 * MiB)
    expect(held).toBeGreaterThan(3 * MiB)
    await hub.close()
  })

  it('gives memory back after maxAgeMs with no traffic at all', async () => {
    const hub = createHub({ history: { maxAgeMs: 300 }, heartbeatMs: 0 })
    const before = liveBuffers()
    const data = 'x'.repeat(100_000)
    for (let i = 0; i < 100; i++) await hub.publish(`topic-${i % 10}`, { data })
    expect(liveBuffers() - before).toBeGreaterThan(9 * MiB)
    expect(hub.metrics()).toMatchObject({ historyEvents: 100 })
    await waitFor(() => hub.metrics().historyEvents === 0, 'the history to expire', 3000)
    expect(hub.metrics()).toMatchObject({ historyEvents: 0, historyBytes: 0 })
    expect(liveBuffers() - before).toBeLessThan(1 * MiB)
    await hub.close()
  })
})

describe('a client reconnecting after the byte bound evicted what it missed', () => {
  const served = useHubServer('node')

  it('gets a reset, then live events', async () => {
    const hub = await served.serve({ epoch: 'hb', heartbeatMs: 0, history: { maxBytes: 2000 } })
    const seen = await hub.publish('news', { data: 'a'.repeat(900) })
    await hub.publish('news', { data: 'missed' })
    for (let i = 0; i < 3; i++) await hub.publish('other', { data: 'b'.repeat(900) })
    expect(hub.metrics().historyEvents).toBe(2)
    const s = await served.open('/?topic=news', { headers: { 'last-event-id': seen } })
    await s.waitForEvents(1)
    await hub.publish('news', { data: 'live' })
    const events = await s.waitForEvents(2)
    expect(events.map((e) => [e.event, e.id, e.data])).toEqual([
      ['reset', 'hb-5', ''],
      [undefined, 'hb-6', 'live'],
    ])
  })
})
