import type { IncomingMessage } from 'node:http'
import { type StreamClient, TRANSPORTS, useHubServer, waitFor } from '@herald/test-utils'
import { describe, expect, it } from 'vitest'
import { createMemoryBroker } from '../broker/memory.js'
import {
  HeraldClosedError,
  HeraldConfigError,
  HeraldEncodingError,
  HeraldLimitError,
  HeraldTopicError,
} from '../errors.js'
import type { HubOptions, StreamOptions } from '../types.js'
import { createHub } from './hub.js'

describe.each(TRANSPORTS)('hub over the %s sink', (transport) => {
  const served = useHubServer(transport)
  async function setup(options: HubOptions = {}, stream: StreamOptions<IncomingMessage> = {}) {
    return { hub: await served.serve({ epoch: 'e1', ...options }, stream) }
  }
  const open = (path: string, headers?: Record<string, string>) => served.open(path, { headers })

  it('opens with the SSE headers and delivers events with hub-assigned ids', async () => {
    const { hub } = await setup()
    const s = await open('/?topic=builds')
    expect(s.status).toBe(200)
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(s.headers['cache-control']).toBe('no-cache, no-transform')
    expect(s.headers['x-accel-buffering']).toBe('no')
    expect(s.headers['content-length']).toBeUndefined()
    await waitFor(() => hub.subscriberCount('builds') === 1, 'subscriber')
    expect(await hub.publish('builds', { event: 'progress', data: 'a\nb' })).toBe('e1-1')
    expect(await hub.publish('other', { data: 'not for us' })).toBe('e1-2')
    expect(await hub.publish('builds', { data: 'c' })).toBe('e1-3')
    const events = await s.waitForEvents(2)
    expect(events.map((e) => [e.id, e.event, e.data])).toEqual([
      ['e1-1', 'progress', 'a\nb'],
      ['e1-3', undefined, 'c'],
    ])
  })

  it('delivers an event published to several topics once to a subscriber of several', async () => {
    const { hub } = await setup()
    const both = await open('/?topic=a&topic=b')
    const onlyB = await open('/?topic=b')
    await waitFor(() => hub.subscriberCount() === 2, 'subscribers')
    hub.publish(['a', 'b'], { data: 'x' })
    hub.publish('a', { data: 'y' })
    await both.waitForEvents(2)
    await onlyB.waitForEvents(1)
    await new Promise((r) => setTimeout(r, 50))
    expect(both.events.map((e) => e.data)).toEqual(['x', 'y'])
    expect(onlyB.events.map((e) => e.data)).toEqual(['x'])
  })

  it('releases the subscriber as soon as the client goes away', async () => {
    let reason: string | undefined
    const { hub } = await setup({ onUnsubscribe: (_s, r) => (reason = r) })
    const s = await open('/?topic=t')
    await waitFor(() => hub.subscriberCount('t') === 1, 'subscriber')
    s.close()
    await waitFor(() => hub.subscriberCount('t') === 0, 'release')
    expect(reason).toBe('client-gone')
    expect(hub.metrics().subscribers).toBe(0)
  })

  it('replays events after a Last-Event-ID header, then goes live', async () => {
    const { hub } = await setup()
    const ids = await Promise.all(['one', 'two', 'three'].map((data) => hub.publish('t', { data })))
    hub.publish('elsewhere', { data: 'skip' })
    const s = await open('/?topic=t', { 'last-event-id': ids[0]! })
    await s.waitForEvents(2)
    hub.publish('t', { data: 'four' })
    await s.waitForEvents(3)
    expect(s.events.map((e) => e.data)).toEqual(['two', 'three', 'four'])
    expect(hub.metrics().replayed).toBe(2)
  })

  it('reads Last-Event-ID from the lastEventId query parameter', async () => {
    const { hub } = await setup()
    const first = await hub.publish('t', { data: 'one' })
    hub.publish('t', { data: 'two' })
    const s = await open(`/?topic=t&lastEventId=${encodeURIComponent(first)}`)
    await s.waitForEvents(1)
    expect(s.events.map((e) => e.data)).toEqual(['two'])
  })

  it.each([
    ['another epoch', 'e0-1'],
    ['garbage', 'not an id ✓'],
    ['a future id', 'e1-99'],
  ])('sends a reset event for %s, then live events', async (_what, lastEventId) => {
    const { hub } = await setup({ resetEvent: 'start-over' })
    hub.publish('t', { data: 'old' })
    const s = await open(`/?topic=t&lastEventId=${encodeURIComponent(lastEventId)}`)
    await s.waitForEvents(1)
    hub.publish('t', { data: 'new' })
    await s.waitForEvents(2)
    expect(s.events.map((e) => [e.event, e.id, e.data])).toEqual([
      ['start-over', 'e1-1', ''],
      [undefined, 'e1-2', 'new'],
    ])
    expect(hub.metrics().resets).toBe(1)
  })

  it('sends the retry hint and the connected event on connect', async () => {
    const ids: string[] = []
    await setup({ retryMs: 2500, connectedEvent: 'hello', onSubscribe: (sub) => ids.push(sub.id) })
    const s = await open('/?topic=t')
    await s.waitForEvents(1)
    expect(s.text.startsWith('retry: 2500\n\n')).toBe(true)
    expect(s.retries).toEqual([2500])
    expect(s.events[0]!.event).toBe('hello')
    expect(ids).toHaveLength(1)
    expect(s.events[0]!.data).toBe(ids[0])
    expect(s.events[0]!.id).toBeUndefined()
  })

  it('sends heartbeat comments to idle subscribers only', async () => {
    const { hub } = await setup({ heartbeatMs: 200 })
    const idle = await open('/?topic=quiet')
    const busy = await open('/?topic=busy')
    await waitFor(() => hub.subscriberCount() === 2, 'subscribers')
    const beats = (s: StreamClient) => s.text.split('\n').filter((l) => l === ':').length
    const timer = setInterval(() => hub.publish('busy', { data: 'x' }), 10)
    try {
      await waitFor(() => beats(idle) >= 4, '4 heartbeats')
    } finally {
      clearInterval(timer)
    }
    // Traffic resets the idle clock: the busy stream gets none (one at most if the machine stalls).
    expect(beats(busy)).toBeLessThanOrEqual(1)
    expect(hub.metrics().heartbeats).toBeGreaterThanOrEqual(beats(idle) + beats(busy))
  })

  it('close() ends every stream after a final event and retry hint, and refuses new streams', async () => {
    const { hub } = await setup()
    const s = await open('/?topic=t')
    await waitFor(() => hub.subscriberCount() === 1, 'subscriber')
    hub.publish('t', { data: 'last live' })
    await hub.close({ event: { event: 'shutdown', data: 'bye' }, retryMs: 3000 })
    await s.ended
    expect(s.events.map((e) => [e.event, e.data])).toEqual([
      [undefined, 'last live'],
      ['shutdown', 'bye'],
    ])
    expect(s.retries).toEqual([3000])
    const refused = await open('/?topic=t')
    expect(refused.status).toBe(503)
    expect(refused.headers['retry-after']).toBe('3')
    expect(hub.metrics().refused.closed).toBe(1)
    expect(() => hub.publish('t', { data: 'x' })).toThrow(HeraldClosedError)
  })

  it('refuses over-limit connects with 503 / 429 and Retry-After', async () => {
    const { hub } = await setup({ maxSubscribers: 3, maxSubscribersPerClient: 2 })
    const a = await open('/?topic=t')
    const b = await open('/?topic=t')
    expect([a.status, b.status]).toEqual([200, 200])
    const c = await open('/?topic=t')
    expect(c.status).toBe(429)
    expect(c.headers['retry-after']).toBe('5')
    await c.ended
    expect(c.text).toMatch(/too many streams/i)
    expect(hub.metrics().refused.clientLimit).toBe(1)
    a.close()
    await waitFor(() => hub.subscriberCount() === 1, 'release')
    const d = await open('/?topic=t')
    expect(d.status).toBe(200)
  })

  it('answers 400 without topics, 403 / 401 from authorize', async () => {
    await setup(
      {},
      {
        authorize: (req) => {
          const url = new URL(req.url ?? '/', 'http://x')
          if (url.searchParams.get('who') === 'nobody') return false
          if (url.searchParams.get('who') === 'anon') return { status: 401, reason: 'Log in first' }
          return true
        },
      },
    )
    const none = await open('/')
    expect(none.status).toBe(400)
    await none.ended
    expect(none.text).toMatch(/topic/)
    const empty = await open('/?topic=')
    expect(empty.status).toBe(400)
    const long = await open(`/?topic=${'x'.repeat(257)}`)
    expect(long.status).toBe(400)
    const forbidden = await open('/?topic=t&who=nobody')
    expect(forbidden.status).toBe(403)
    const anon = await open('/?topic=t&who=anon')
    expect(anon.status).toBe(401)
    await anon.ended
    expect(anon.text).toBe('Log in first')
  })

  it('caps by default: 256 streams from one address, 64 topics per stream', async () => {
    const { hub } = await setup()
    const topics = (n: number) => Array.from({ length: n }, (_, i) => `topic=t${i}`).join('&')
    const wide = await open(`/?${topics(65)}`)
    expect(wide.status).toBe(400)
    await wide.ended
    expect(wide.text).toBe('Too many topics: at most 64 per stream, got 65')
    const streams = [await open(`/?${topics(64)}`)]
    for (let i = 1; i < 256; i++) streams.push(await open('/?topic=t'))
    expect(streams.every((s) => s.status === 200)).toBe(true)
    await waitFor(() => hub.subscriberCount() === 256, '256 subscribers')
    const over = await open('/?topic=t')
    expect(over.status).toBe(429)
    expect(hub.subscriberCount('t63')).toBe(1)
  })

  it('lets authorize narrow the topics: the stream gets only the allowed ones', async () => {
    const { hub } = await setup(
      {},
      { authorize: (_req, { topics }) => ({ topics: topics.filter((t) => !t.startsWith('private:')) }) },
    )
    const s = await open('/?topic=news&topic=private:ops')
    expect(s.status).toBe(200)
    await waitFor(() => hub.subscriberCount('news') === 1, 'subscribed to news')
    expect(hub.subscriberCount('private:ops')).toBe(0)
    hub.publish('private:ops', { data: 'secret' })
    hub.publish('news', { data: 'public' })
    expect((await s.waitForEvents(1)).map((e) => e.data)).toEqual(['public'])
    const none = await open('/?topic=private:ops')
    expect(none.status).toBe(403)
  })
})

describe('hub API', () => {
  it('validates options with HeraldConfigError naming the option', () => {
    expect(() => createHub({ budgetBytes: 0 })).toThrow(/budgetBytes/)
    expect(() => createHub({ slowConsumer: 'fast' as never })).toThrow(HeraldConfigError)
    expect(() => createHub({ heartbeatMs: -1 })).toThrow(/heartbeatMs/)
    expect(() => createHub({ history: { maxEvents: 0 } })).toThrow(/history.maxEvents/)
    expect(() => createHub({ gapEvent: 'a\nb' })).toThrow(/gapEvent/)
    expect(() => createHub({ budgetByte: 5 } as never)).toThrow(/budgetByte/)
    expect(() => createHub({ broker: {} as never })).toThrow(/broker/)
    expect(() => createHub({ broker: createMemoryBroker(), epoch: 'x' })).toThrow(/Invalid option epoch/)
    expect(() => createHub({ brokerOutage: 'drop' as never })).toThrow(/brokerOutage/)
    expect(() => createHub({ topicPattern: /^a+$/g })).toThrow(/topicPattern: must not have the g or y flag/)
    expect(() => createHub({ maxTopicsPerStream: 0 })).toThrow(/maxTopicsPerStream/)
    expect(() => createHub({ maxEventBytes: 1.5 })).toThrow(/maxEventBytes/)
  })

  it('refuses an event that encodes to more than maxEventBytes, naming the field', () => {
    const hub = createHub()
    let error: unknown
    try {
      hub.publish('t', { event: 'big', data: 'x'.repeat(1024 * 1024) })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(HeraldEncodingError)
    expect(error).toMatchObject({ code: 'ERR_HERALD_EVENT_TOO_LARGE', field: 'data' })
    expect((error as Error).message).toMatch(/more than maxEventBytes \(1048576\)/)
    expect(() => hub.publish('t', { comment: 'c'.repeat(2048) })).not.toThrow()
    const small = createHub({ maxEventBytes: 1024 })
    expect(() => small.publish('t', { data: 'x', comment: 'c'.repeat(2048) })).toThrow(/Invalid SSE comment/)
    expect(hub.metrics().published).toBe(1)
  })

  it('refuses more topics than maxTopicsPerStream on subscribe, but not on publish', async () => {
    const { createWebSink } = await import('../sink/web.js')
    const hub = createHub({ maxTopicsPerStream: 2 })
    expect(() => hub.subscribe({ sink: createWebSink().sink, topics: ['a', 'b', 'c'] })).toThrow(
      /at most 2 topics per stream, got 3/,
    )
    hub.subscribe({ sink: createWebSink().sink, topics: ['a', 'b', 'a'] })
    expect(await hub.publish(['a', 'b', 'c'], { data: 'x' })).toMatch(/-1$/)
    await hub.close()
  })

  it('rejects bad topics and messages with typed errors, synchronously', async () => {
    const hub = createHub()
    expect(() => hub.publish('', { data: 'x' })).toThrow(HeraldTopicError)
    expect(() => hub.publish([], { data: 'x' })).toThrow(HeraldTopicError)
    expect(() => hub.publish('t', { id: 'mine', data: 'x' } as never)).toThrow(/id/)
    expect(() => hub.publish('t', { event: 'a\nb' })).toThrow(/event/)
    expect(hub.metrics().published).toBe(0)
    expect(await hub.publish('t', { data: 'ok' })).toMatch(/-1$/)
  })

  it('skips reading pending for a paced event only when the budget exceeds the high-water mark', async () => {
    // A budget past the 64 MiB that the subscriber's flags hold keeps the fast path; one below the
    // sink's high-water mark never takes it. Either way every event arrives.
    for (const [budgetBytes, readsPending] of [
      [1024, true],
      [2 ** 32, false],
    ] as const) {
      const written: string[] = []
      let pendingReads = 0
      const sink = {
        highWaterMark: 16 * 1024,
        closed: false,
        get pending() {
          pendingReads++
          return 0
        },
        write(chunk: Uint8Array) {
          written.push(new TextDecoder().decode(chunk))
          return true
        },
        attach() {},
        onDrain() {},
        onClose() {},
        end() {},
      }
      const hub = createHub({ budgetBytes, heartbeatMs: 0 })
      hub.subscribe({ sink, topics: ['t'] })
      for (const data of ['a', 'b', 'c']) {
        await hub.publish('t', { data })
        await new Promise((r) => setImmediate(r))
      }
      expect(written.join('').match(/^data: .*$/gm), String(budgetBytes)).toEqual([
        'data: a',
        'data: b',
        'data: c',
      ])
      expect(pendingReads > 0, String(budgetBytes)).toBe(readsPending)
      await hub.close()
    }
  })

  it('throws typed limit errors from subscribe', async () => {
    const { createWebSink } = await import('../sink/web.js')
    const hub = createHub({ maxSubscribers: 1 })
    hub.subscribe({ sink: createWebSink().sink, topics: ['t'], clientKey: 'k' })
    let error: unknown
    try {
      hub.subscribe({ sink: createWebSink().sink, topics: ['t'] })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(HeraldLimitError)
    expect((error as HeraldLimitError).code).toBe('ERR_HERALD_TOO_MANY_SUBSCRIBERS')
    expect((error as HeraldLimitError).status).toBe(503)
    await hub.close()
    expect(() => hub.subscribe({ sink: createWebSink().sink, topics: ['t'] })).toThrow(HeraldClosedError)
  })
})
