import { createHub, HeraldConfigError } from '@herald/sse-core'
import { createClient } from '@redis/client'
import { afterEach, describe, expect, it } from 'vitest'
import { createRedisBroker, type RedisBroker } from './broker.js'
import {
  bytes,
  dropNamespace,
  frameText,
  REDIS_URL,
  recordingListener,
  redisOrSkip,
  uniqueNamespace,
} from './test-utils/redis.js'

const available = await redisOrSkip()

const brokers: RedisBroker[] = []
const namespaces = new Set<string>()

function broker(namespace: string, history?: { maxEvents?: number; maxAgeMs?: number }) {
  namespaces.add(namespace)
  const b = createRedisBroker({ url: REDIS_URL, namespace, history })
  brokers.push(b)
  return b
}

afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()))
  await Promise.all([...namespaces].map((ns) => dropNamespace(ns)))
  namespaces.clear()
})

const seqOf = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1))
const epochOf = (id: string) => id.slice(0, id.lastIndexOf('-'))

describe('createRedisBroker options', () => {
  it('refuses bad options with an error naming the field', () => {
    expect(() => createRedisBroker({})).toThrow(HeraldConfigError)
    expect(() => createRedisBroker({})).toThrow(/url/)
    expect(() => createRedisBroker({ url: REDIS_URL, namespace: 'a{b}' })).toThrow(/namespace/)
    expect(() => createRedisBroker({ url: REDIS_URL, namespace: '' })).toThrow(/namespace/)
    expect(() => createRedisBroker({ url: REDIS_URL, history: { maxEvents: 0 } })).toThrow(
      /history.maxEvents/,
    )
    expect(() => createRedisBroker({ url: REDIS_URL, history: { maxAgeMs: -1 } })).toThrow(/history.maxAgeMs/)
    expect(() => createRedisBroker({ url: REDIS_URL, commandTimeoutMs: 0 })).toThrow(/commandTimeoutMs/)
    expect(() => createRedisBroker({ url: REDIS_URL, usageRefreshMs: 1.5 })).toThrow(/usageRefreshMs/)
  })
})

describe.skipIf(!available)('Redis broker on a real Redis', () => {
  it('issues ids unique and ordered across brokers sharing a namespace, pipelined', async () => {
    const ns = uniqueNamespace()
    const a = broker(ns)
    const b = broker(ns)
    await Promise.all([a.ready(), b.ready()])
    // Issued without awaiting each other: they go out pipelined and resolve in issue order.
    const fromA = Array.from({ length: 500 }, (_, i) =>
      a.publish({ topics: ['t'], body: bytes(`data: a${i}\n\n`) }),
    )
    const fromB = Array.from({ length: 500 }, (_, i) =>
      b.publish({ topics: ['t'], body: bytes(`data: b${i}\n\n`) }),
    )
    const ids = (await Promise.all([...fromA, ...fromB])).map((e) => e.id)
    expect(new Set(ids).size).toBe(1000)
    expect(new Set(ids.map(epochOf)).size).toBe(1)
    const seqsA = ids.slice(0, 500).map(seqOf)
    expect(seqsA).toEqual([...seqsA].sort((x, y) => x - y))
    expect(Math.max(...ids.map(seqOf))).toBe(1000)
  })

  it('delivers to every watching broker once, with the id and frame the publisher got', async () => {
    const ns = uniqueNamespace()
    const a = broker(ns)
    const b = broker(ns)
    const ra = recordingListener()
    const rb = recordingListener()
    a.attach(ra.listener)
    b.attach(rb.listener)
    // Resolved once Redis acknowledged the SUBSCRIBE: from then on nothing published is missed.
    await Promise.all([a.watch('x'), b.watch('x'), b.watch('y')])
    const one = await a.publish({ topics: ['x'], body: bytes('data: 1\n\n') })
    // On both of b's topics: b gets it once.
    const two = await b.publish({ topics: ['x', 'y'], body: bytes('data: 2\n\n') })
    await rb.until(() => rb.delivered.length >= 2)
    await ra.until(() => ra.delivered.length >= 2)
    await new Promise((r) => setTimeout(r, 50))
    expect(rb.delivered.map((e) => e.id)).toEqual([one.id, two.id])
    expect(ra.delivered.map((e) => e.id)).toEqual([one.id, two.id])
    expect(frameText(ra.delivered[0]!)).toBe(`id: ${one.id}\ndata: 1\n\n`)
    expect(frameText(one)).toBe(`id: ${one.id}\ndata: 1\n\n`)
    expect(rb.delivered[1]!.topics).toEqual(['x', 'y'])
    // The coalescing key travels with the event, to other processes and through history.
    const keyed = await a.publish({ topics: ['x'], body: bytes('data: k\n\n'), key: 'price:ACME' })
    await rb.until(() => rb.delivered.length >= 3)
    expect(rb.delivered[2]).toMatchObject({ id: keyed.id, key: 'price:ACME', topics: ['x'] })
    expect(keyed.key).toBe('price:ACME')
    expect(rb.delivered[0]!.key).toBeUndefined()
    const replay = await b.replay(['x'], one.id)
    expect(replay.kind === 'events' && replay.entries.map((e) => e.key)).toEqual([undefined, 'price:ACME'])
    expect(a.compare!(one.id, two.id)).toBeLessThan(0)
    expect(a.compare!(two.id, one.id)).toBeGreaterThan(0)
    expect(a.compare!(one.id, 'other-1')).toBeUndefined()
  })

  it('subscribes only to watched topics, batched per task, and unsubscribes after unwatch', async () => {
    const ns = uniqueNamespace()
    const a = broker(ns)
    const r = recordingListener()
    a.attach(r.listener)
    await a.ready()
    const probe = createClient({ url: REDIS_URL })
    await probe.connect()
    const channels = async () =>
      (await probe.sendCommand(['PUBSUB', 'CHANNELS', `{${ns}}:live:*`])) as string[]
    try {
      a.watch('p')
      a.watch('q')
      a.watch('gone')
      a.unwatch('gone') // in the same task: never subscribed
      await new Promise((res) => setTimeout(res, 100))
      expect((await channels()).sort()).toEqual([`{${ns}}:live:p`, `{${ns}}:live:q`])
      a.unwatch('p')
      // Unwatched and watched again in one task: stays subscribed.
      a.unwatch('q')
      await a.watch('q')
      await new Promise((res) => setTimeout(res, 100))
      expect(await channels()).toEqual([`{${ns}}:live:q`])
      const other = broker(ns)
      await other.publish({ topics: ['p'], body: bytes('data: unseen\n\n') })
      await other.publish({ topics: ['q'], body: bytes('data: seen\n\n') })
      await r.until(() => r.delivered.length >= 1)
      await new Promise((res) => setTimeout(res, 50))
      expect(r.delivered.map(frameText)).toEqual([expect.stringContaining('data: seen')])
    } finally {
      await probe.close()
    }
  })

  it('replays after a Last-Event-ID: merged by id over several topics, each event once', async () => {
    const ns = uniqueNamespace()
    const a = broker(ns)
    const first = await a.publish({ topics: ['a'], body: bytes('data: 0\n\n') })
    const later = []
    for (let i = 1; i <= 6; i++) {
      const topics = i % 3 === 0 ? ['a', 'b'] : i % 2 === 0 ? ['b'] : ['a']
      later.push(await a.publish({ topics, body: bytes(`data: ${i}\n\n`) }))
    }
    await a.publish({ topics: ['c'], body: bytes('data: other topic\n\n') })
    const replay = await a.replay(['a', 'b'], first.id)
    expect(replay.kind).toBe('events')
    if (replay.kind !== 'events') return
    expect(replay.entries.map((e) => e.id)).toEqual(later.map((e) => e.id))
    expect(replay.entries.map(frameText)).toEqual(later.map(frameText))
    expect(replay.entries[2]!.topics).toEqual(['a', 'b'])
    // Up to date: nothing; a single topic: only its events.
    const upToDate = await a.replay(['a', 'b'], later.at(-1)!.id)
    expect(upToDate).toEqual({ kind: 'events', entries: [] })
    const onlyB = await a.replay(['b'], first.id)
    expect(onlyB.kind === 'events' && onlyB.entries.map((e) => frameText(e).split('\n')[1])).toEqual([
      'data: 2',
      'data: 3',
      'data: 4',
      'data: 6',
    ])
  })

  it('works on a client it is given, and leaves that client open when it closes', async () => {
    const ns = uniqueNamespace()
    namespaces.add(ns)
    const client = createClient({ url: REDIS_URL })
    await client.connect()
    try {
      const b = createRedisBroker({ client, namespace: ns })
      const r = recordingListener()
      b.attach(r.listener)
      await b.ready()
      await b.watch('c')
      const e = await b.publish({ topics: ['c'], body: bytes('data: c\n\n') })
      await r.until(() => r.delivered.length === 1)
      expect(r.delivered[0]!.id).toBe(e.id)
      await b.close()
      expect(client.isReady).toBe(true)
      expect(await client.ping()).toBe('PONG')
      await expect(b.publish({ topics: ['c'], body: bytes('data: c\n\n') })).rejects.toThrow(/closed/)
    } finally {
      await client.close()
    }
  })

  it('answers reset for another epoch, a flushed store, a future id and garbage', async () => {
    const ns = uniqueNamespace()
    const a = broker(ns)
    const e = await a.publish({ topics: ['t'], body: bytes('data: x\n\n') })
    // Resets carry the newest id, so the client's next reconnect resumes from there.
    expect(await a.replay(['t'], `other-${seqOf(e.id)}`)).toEqual({
      kind: 'reset',
      reason: 'other-epoch',
      id: e.id,
    })
    expect(await a.replay(['t'], `${epochOf(e.id)}-99`)).toEqual({
      kind: 'reset',
      reason: 'unknown-id',
      id: e.id,
    })
    expect(await a.replay(['t'], 'garbage')).toEqual({ kind: 'reset', reason: 'unknown-id' })
    await dropNamespace(ns)
    expect(await a.replay(['t'], e.id)).toEqual({ kind: 'reset', reason: 'other-epoch' })
    // The flushed store starts a new epoch: the new id is not the old one.
    const after = await a.publish({ topics: ['t'], body: bytes('data: y\n\n') })
    expect(epochOf(after.id)).not.toBe(epochOf(e.id))
    expect(after.id).not.toBe(e.id)
  })

  it('answers reset when events after the id were trimmed by count', async () => {
    const ns = uniqueNamespace()
    const a = broker(ns, { maxEvents: 10 })
    const firstId = (await a.publish({ topics: ['t'], body: bytes('data: 0\n\n') })).id
    const ids: string[] = []
    for (let i = 0; i < 400; i++) {
      ids.push((await a.publish({ topics: ['t'], body: bytes(`data: ${i}\n\n`) })).id)
    }
    expect(await a.replay(['t'], firstId)).toEqual({ kind: 'reset', reason: 'too-old', id: ids.at(-1) })
    // A recent id still replays exactly.
    const recent = await a.replay(['t'], ids.at(-4)!)
    expect(recent.kind === 'events' && recent.entries.map((e) => e.id)).toEqual(ids.slice(-3))
  })

  it('answers reset when the events after the id are older than history.maxAgeMs', async () => {
    const ns = uniqueNamespace()
    const a = broker(ns, { maxAgeMs: 1000 })
    const old = await a.publish({ topics: ['quiet'], body: bytes('data: old\n\n') })
    await a.publish({ topics: ['quiet'], body: bytes('data: missed\n\n') })
    await new Promise((r) => setTimeout(r, 3300)) // past maxAgeMs, its whole second and the key's expiry
    await a.publish({ topics: ['busy'], body: bytes('data: now\n\n') })
    expect(await a.replay(['quiet'], old.id)).toMatchObject({ kind: 'reset', reason: 'too-old' })
    const recent = await a.publish({ topics: ['quiet'], body: bytes('data: fresh\n\n') })
    const next = await a.publish({ topics: ['quiet'], body: bytes('data: next\n\n') })
    const replay = await a.replay(['quiet'], recent.id)
    expect(replay.kind === 'events' && replay.entries.map((e) => e.id)).toEqual([next.id])
  })

  it('usage() (hub.metrics history figures) counts the streams of topics watched or published to here', async () => {
    const ns = uniqueNamespace()
    namespaces.add(ns)
    const mine = createRedisBroker({ url: REDIS_URL, namespace: ns, usageRefreshMs: 1 })
    const hub = createHub({ broker: mine })
    const other = broker(ns)
    try {
      await Promise.all([mine.ready(), other.ready()])
      // Nothing published or watched here yet: nothing counted.
      const empty = hub.metrics()
      expect([empty.historyEvents, empty.historyBytes]).toEqual([0, 0])
      await hub.publish('mine', { data: 'a' })
      await hub.publish('mine', { data: 'b' })
      await hub.publish(['mine', 'both'], { data: 'c' })
      await mine.watch('theirs')
      for (let i = 0; i < 4; i++) await other.publish({ topics: ['theirs'], body: bytes(`data: ${i}\n\n`) })
      // Published by another process on a topic this one neither watches nor published to: not counted.
      await other.publish({ topics: ['elsewhere'], body: bytes('data: x\n\n') })

      // mine 3 + both 1 + theirs 4 (an event on two topics is stored, and counted, in both streams).
      const deadline = Date.now() + 5000
      while (hub.metrics().historyEvents !== 8 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10))
      const metrics = hub.metrics()
      expect(metrics.historyEvents).toBe(8)
      const client = createClient({ url: REDIS_URL })
      await client.connect()
      try {
        let bytesInRedis = 0
        for (const t of ['mine', 'both', 'theirs'])
          bytesInRedis += (await client.memoryUsage(`{${ns}}:t:${t}`)) ?? 0
        expect(metrics.historyBytes).toBe(bytesInRedis)
        expect(metrics.historyBytes).toBeGreaterThan(0)
      } finally {
        await client.close()
      }
    } finally {
      await hub.close()
    }
  })
})
