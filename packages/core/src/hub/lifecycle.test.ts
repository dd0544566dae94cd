import { afterEach, describe, expect, it } from 'vitest'
import { createWebSink } from '../sink/web.js'
import type { Hub, Subscription } from '../types.js'
import { createHub } from './hub.js'

/** Counts live intervals by wrapping the real setInterval / clearInterval (instrumentation only). */
function countIntervals() {
  const live = new Set<unknown>()
  const realSet = globalThis.setInterval
  const realClear = globalThis.clearInterval
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
    const t = realSet(...args)
    live.add(t)
    return t
  }) as typeof setInterval
  globalThis.clearInterval = ((t: Parameters<typeof clearInterval>[0]) => {
    live.delete(t)
    realClear(t)
  }) as typeof clearInterval
  return {
    get live() {
      return live.size
    },
    restore() {
      globalThis.setInterval = realSet
      globalThis.clearInterval = realClear
    },
  }
}

describe('hub lifecycle', () => {
  let hub: Hub | undefined
  afterEach(async () => {
    await hub?.close()
    hub = undefined
  })

  it('encodes a publish once: every subscriber is handed the same bytes', async () => {
    hub = createHub()
    const chunks: Uint8Array[] = []
    const streams: ReadableStream[] = []
    for (let i = 0; i < 3; i++) {
      const { sink, stream } = createWebSink()
      streams.push(stream)
      const write = sink.write.bind(sink)
      // Instrumentation: record what the hub hands this real sink.
      const record = (c: Uint8Array) => {
        chunks.push(c)
        return write(c)
      }
      Object.defineProperty(sink, 'write', { value: record })
      hub.subscribe({ sink, topics: ['t'] })
    }
    hub.publish('t', { data: 'shared' })
    await new Promise((r) => setImmediate(r))
    expect(chunks).toHaveLength(3)
    expect(chunks[1]).toBe(chunks[0])
    expect(chunks[2]).toBe(chunks[0])
    for (const s of streams) await s.cancel()
  })

  it('paced publishes go to a sink with room as they are, without asking it for its pending bytes', async () => {
    hub = createHub()
    const { sink, stream } = createWebSink()
    const reader = stream.getReader()
    let pendingReads = 0
    // The getter lives on the sink's prototype (no per-stream closures).
    const pending = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(sink), 'pending')!.get!.bind(sink)
    // Instrumentation: count budget checks that read the sink's pending bytes.
    Object.defineProperty(sink, 'pending', {
      get() {
        pendingReads++
        return pending()
      },
    })
    hub.subscribe({ sink, topics: ['t'] })
    for (let i = 1; i <= 3; i++) {
      hub.publish('t', { data: `e${i}` })
      const { value } = await reader.read()
      expect(new TextDecoder().decode(value)).toMatch(new RegExp(`^id: .*\\ndata: e${i}\\n\\n$`))
      await new Promise((r) => setImmediate(r))
    }
    expect(pendingReads).toBe(0)
    expect(hub.metrics().delivered).toBe(3)
    await reader.cancel()
  })

  it('runs one shared timer however many subscribers there are, and none when idle', async () => {
    const intervals = countIntervals()
    try {
      hub = createHub({ heartbeatMs: 50 })
      const subs: Subscription[] = []
      const streams: ReadableStream<Uint8Array>[] = []
      for (let i = 0; i < 200; i++) {
        const { sink, stream } = createWebSink()
        streams.push(stream)
        subs.push(hub.subscribe({ sink, topics: [`t${i % 7}`] }))
      }
      expect(intervals.live).toBe(1)
      // Heartbeats reach all 200 from that one timer.
      const readers = streams.map((s) => s.getReader())
      const first = await Promise.all(readers.map((r) => r.read()))
      expect(first.every((c) => new TextDecoder().decode(c.value) === ':\n\n')).toBe(true)
      for (const s of subs) s.close()
      // Read each stream to its end, so nothing lingers unsent; then the timer stops.
      await Promise.all(
        readers.map(async (r) => {
          while (!(await r.read()).done) {}
        }),
      )
      const deadline = Date.now() + 5000
      while (intervals.live > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
      expect(intervals.live).toBe(0)
    } finally {
      intervals.restore()
    }
  })

  it('calls onSubscribe / onUnsubscribe with the reason, and reports a throwing hook to onError', () => {
    const events: string[] = []
    const errors: unknown[] = []
    hub = createHub({
      onSubscribe: (s) => {
        events.push(`+${s.id}:${s.topics.join(',')}`)
        throw new Error('hook failed')
      },
      onUnsubscribe: (s, reason) => events.push(`-${s.id}:${reason}`),
      onError: (e) => errors.push(e),
    })
    const { sink, stream } = createWebSink()
    const sub = hub.subscribe({ sink, topics: ['a', 'b'], clientKey: 'k' })
    expect(sub.clientKey).toBe('k')
    sub.close()
    expect(events).toEqual(['+1:a,b', '-1:unsubscribed'])
    expect(errors).toHaveLength(1)
    expect(hub.subscriberCount()).toBe(0)
    return expect(sub.closed)
      .resolves.toBe('unsubscribed')
      .then(() => stream.cancel())
  })

  it('resolves subscription.closed with client-gone when the stream is cancelled', async () => {
    hub = createHub()
    const { sink, stream } = createWebSink()
    const sub = hub.subscribe({ sink, topics: ['t'] })
    await stream.cancel()
    await expect(sub.closed).resolves.toBe('client-gone')
    expect(hub.subscriberCount('t')).toBe(0)
  })

  it('close() ends every subscriber with hub-closed and refuses admission with 503', async () => {
    hub = createHub()
    const { sink, stream } = createWebSink()
    const a = hub.subscribe({ sink, topics: ['t'] })
    const text = new Response(stream).text()
    await hub.close({ retryMs: 10_000 })
    expect(await text).toBe('retry: 10000\n\n')
    await expect(a.closed).resolves.toBe('hub-closed')
    expect(hub.closed).toBe(true)
    expect(hub.checkAdmission('x')).toMatchObject({
      status: 503,
      code: 'ERR_HERALD_CLOSED',
      retryAfterSeconds: 10,
    })
  })

  it('close() resolves as soon as the reader has taken the last byte, not on a later poll', async () => {
    hub = createHub()
    const { sink, stream } = createWebSink()
    hub.subscribe({ sink, topics: ['t'] })
    hub.publish('t', { data: 'x'.repeat(64 * 1024) })
    let resolved = false
    const closing = hub.close().then(() => {
      resolved = true
    })
    // The last event is still queued in the stream: close() waits for the reader.
    await new Promise((r) => setImmediate(r))
    expect(resolved).toBe(false)
    const reader = stream.getReader()
    let received = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      received += value.length
    }
    expect(received).toBeGreaterThan(64 * 1024)
    // Within the same turn of the event loop (no timer had to fire).
    await new Promise((r) => setImmediate(r))
    expect(resolved).toBe(true)
    await closing
  })

  it('counts refusals by limit in metrics', () => {
    hub = createHub({ maxSubscribers: 2, maxSubscribersPerClient: 1 })
    hub.subscribe({ sink: createWebSink().sink, topics: ['t'], clientKey: 'a' })
    expect(hub.checkAdmission('a')).toMatchObject({ status: 429, code: 'ERR_HERALD_CLIENT_LIMIT' })
    hub.subscribe({ sink: createWebSink().sink, topics: ['t'], clientKey: 'b' })
    expect(hub.checkAdmission('c')).toMatchObject({ status: 503, code: 'ERR_HERALD_TOO_MANY_SUBSCRIBERS' })
    expect(hub.metrics().refused).toEqual({ limit: 1, clientLimit: 1, closed: 0 })
  })
})
