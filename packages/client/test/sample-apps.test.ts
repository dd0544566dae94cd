// The client against each sample app, over real sockets: typed events with a custom header, a 401 that
// stops it, resume across a server restart, 429/503 with Retry-After, a shutdown hint and a reset, and a
// proxy that stalls without closing.
import { afterEach, describe, expect, it } from 'vitest'
import { connect, HeraldHttpError, type SseClient } from '../src/index.js'
import {
  collect,
  dataOf,
  EVENTS_TOKEN,
  portOf,
  type RunningSample,
  recorder,
  restartable,
  SAMPLE_APPS,
  startProxy,
  testHub,
  UNAUTHORIZED,
  waitFor,
} from './helpers.js'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

describe.each(SAMPLE_APPS)('$name', ({ start }) => {
  async function serve(options: Parameters<typeof start>[0] = {}): Promise<RunningSample> {
    const app = await start(options)
    cleanup.push(() => app.close())
    return app
  }
  function open<M extends Record<string, unknown>>(client: SseClient<M>): SseClient<M> {
    cleanup.push(() => client.close())
    return client
  }

  it('sends the Authorization header (/events-private), and delivers typed events to the iterator and to listeners', async () => {
    const app = await serve({ hub: testHub() })
    const { recording, callbacks } = recorder()
    const client = open(
      connect<{ progress: { pct: number }; log: string }>(`${app.url}/events-private`, {
        topics: 'build',
        headers: { authorization: `Bearer ${EVENTS_TOKEN}` },
        parse: { progress: 'json' },
        ...callbacks,
      }),
    )
    const heard: [number, string | undefined][] = []
    client.on('progress', (data, event) => heard.push([data.pct, event.id]))
    const ended = collect(client, recording)
    await waitFor(() => app.hub.subscriberCount('build') === 1, 'the client to subscribe')
    const ids = [
      await app.hub.publish('build', { event: 'progress', data: JSON.stringify({ pct: 10 }) }),
      await app.hub.publish('build', { event: 'log', data: 'line one\nline two' }),
      await app.hub.publish('build', { event: 'progress', data: JSON.stringify({ pct: 20 }) }),
    ]
    await waitFor(() => recording.events.length === 3, 'three events')
    expect(recording.events.map((e) => [e.type, e.data, e.id])).toEqual([
      ['progress', { pct: 10 }, ids[0]],
      ['log', 'line one\nline two', ids[1]],
      ['progress', { pct: 20 }, ids[2]],
    ])
    expect(heard).toEqual([
      [10, ids[0]],
      [20, ids[2]],
    ])
    expect(client.state).toBe('open')
    expect(client.lastEventId).toBe(ids[2])
    client.close()
    expect(await ended).toBe('done')
    expect(client.state).toBe('closed')
    await waitFor(() => app.hub.subscriberCount('build') === 0, 'the server to release the stream')
    expect(recording.errors).toEqual([])
  })

  it('stops on 401 with a HeraldHttpError carrying the status and body, and never asks again', async () => {
    const app = await serve({ hub: testHub() })
    const { recording, callbacks } = recorder()
    let requests = 0
    const client = open(
      connect(`${app.url}/events-private`, {
        topics: 'build',
        reconnect: { initialDelayMs: 10 },
        fetch: (input, init) => {
          requests++
          return fetch(input, init)
        },
        ...callbacks,
      }),
    )
    const ended = collect(client, recording)
    const error = await client.closed.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(HeraldHttpError)
    expect(error).toMatchObject({ code: 'ERR_SSE_HTTP_STATUS', status: 401, body: UNAUTHORIZED })
    expect((error as HeraldHttpError).message).toBe(`The server answered 401: ${UNAUTHORIZED}`)
    expect(await ended).toBe(error) // the iterator throws it too
    expect(recording.errors).toEqual([error])
    expect(client.state).toBe('closed')
    // Ten of its retry delays later, still the one request.
    await new Promise((r) => setTimeout(r, 100))
    expect(requests).toBe(1)
    expect(recording.reconnects).toEqual([])
  })

  it('resumes across a server restart on the same port: nothing lost, nothing twice', async () => {
    // A non-ASCII epoch makes every id non-ASCII: the Last-Event-ID header must carry it as UTF-8.
    const app = await restartable(start, { epoch: 'épα' })
    cleanup.push(() => app.close())
    const { hub } = app
    const { recording, callbacks } = recorder()
    const client = open(
      connect(`${app.url}/events`, { topics: 'feed', reconnect: { initialDelayMs: 50 }, ...callbacks }),
    )
    void collect(client, recording)
    await waitFor(() => hub.subscriberCount('feed') === 1, 'the first subscription')
    const publish = async (from: number, to: number) => {
      for (let n = from; n <= to; n++) await hub.publish('feed', { data: `event ${n}` })
    }
    await publish(1, 3)
    await waitFor(() => recording.events.length === 3, 'events 1-3')
    const idBeforeRestart = client.lastEventId

    await app.stop() // the streams are cut; the hub (and its history) lives on
    await publish(4, 6) // published while no server is up: only history has them
    await app.restart()
    await waitFor(
      () => recording.events.length === 6,
      () => `events 4-6 replayed (have ${recording.events.length})`,
    )
    await publish(7, 8)
    await waitFor(() => recording.events.length === 8, 'events 7-8 live')

    expect(dataOf(recording)).toEqual(Array.from({ length: 8 }, (_, i) => `event ${i + 1}`))
    expect(recording.opens).toBe(2)
    expect(recording.reconnects[0]?.reason.code).toMatch(/^ERR_SSE_(NETWORK|ENDED)$/)
    expect(recording.resets).toEqual([]) // the server could replay exactly from the id the client sent
    expect(hub.metrics().replayed).toBe(3)
    expect(idBeforeRestart).toBe('épα-3')
    expect(client.lastEventId).toBe('épα-8')
  })

  it('waits out Retry-After on 503 (hub closed, subscriber limit) and 429 (per-client limit), then connects', async () => {
    // The hub is closed, the server still listens: every stream request gets 503 with Retry-After: 1.
    const closedHub = testHub()
    const refusing = await serve({ hub: closedHub })
    await closedHub.close({ retryMs: 1000 })
    const { recording, callbacks } = recorder()
    const client = open(connect(`${refusing.url}/events`, { topics: 'feed', ...callbacks }))
    void collect(client, recording)
    await waitFor(() => recording.reconnects.length === 1, 'the first refusal')
    const refused = recording.reconnects[0]!
    expect(refused.reason).toBeInstanceOf(HeraldHttpError)
    expect(refused.reason).toMatchObject({
      status: 503,
      body: 'The server is shutting down; reconnect later.',
    })
    expect((refused.reason as HeraldHttpError).headers.get('retry-after')).toBe('1')
    expect(refused.delayMs).toBeGreaterThanOrEqual(1000)

    // The same port comes back with an open hub: the client gets in.
    const port = portOf(refusing.url)
    await refusing.close()
    const hub = testHub()
    await serve({ port, hub })
    await waitFor(() => recording.opens === 1, 'the client to connect after Retry-After', 15_000)
    await hub.publish('feed', { data: 'in' })
    await waitFor(() => recording.events.length === 1, 'an event')
    client.close()

    // At the subscriber limit: 503 with Retry-After: 5. Over the per-client limit: 429, Retry-After: 5.
    for (const [options, status] of [
      [{ maxSubscribers: 1 }, 503],
      [{ maxSubscribersPerClient: 1 }, 429],
    ] as const) {
      const full = await serve({ hub: testHub(options) })
      const holder = open(connect(`${full.url}/events`, { topics: 'feed' }))
      await waitFor(() => full.hub.subscriberCount() === 1, 'the first subscriber')
      const { recording: second, callbacks: secondCallbacks } = recorder()
      const refusedClient = open(connect(`${full.url}/events`, { topics: 'feed', ...secondCallbacks }))
      await waitFor(() => second.reconnects.length === 1, `the ${status}`)
      expect(second.reconnects[0]?.reason).toMatchObject({ status, code: 'ERR_SSE_HTTP_STATUS' })
      expect(second.reconnects[0]?.delayMs).toBeGreaterThanOrEqual(5000)
      expect(refusedClient.state).toBe('connecting')
      refusedClient.close()
      holder.close()
    }
  })

  it("honours the shutdown retry: hint, then reports the new server's reset and carries on live", async () => {
    const first = await serve({ hub: testHub() })
    const port = portOf(first.url)
    const { recording, callbacks } = recorder()
    const client = open(connect(`${first.url}/events`, { topics: 'feed', ...callbacks }))
    void collect(client, recording)
    await waitFor(() => first.hub.subscriberCount('feed') === 1, 'the subscription')
    await first.hub.publish('feed', { data: 'before' })
    await waitFor(() => recording.events.length === 1, 'the first event')

    await first.close({ retryMs: 300 }) // graceful: `retry: 300`, then the stream ends
    await waitFor(() => recording.reconnects.length === 1, 'the end of the stream')
    expect(recording.hints).toEqual([300])
    expect(recording.reconnects[0]).toMatchObject({ attempt: 1, delayMs: 300 })
    expect(recording.reconnects[0]?.reason.code).toBe('ERR_SSE_ENDED')

    // A new process: a new hub, a new epoch. The old id means nothing to it, and it says so.
    const second = await serve({ port, hub: testHub() })
    await waitFor(() => recording.resets.length === 1, 'the reset')
    await second.hub.publish('feed', { data: 'after' })
    await waitFor(() => recording.events.length === 3, 'the event after the reset')
    expect(recording.events.map((e) => [e.type, e.text])).toEqual([
      ['message', 'before'],
      ['reset', ''],
      ['message', 'after'],
    ])
    expect(recording.resets[0]?.id).toBe(client.lastEventId.replace(/-\d+$/, '-0'))
    expect(recording.errors).toEqual([])
  })

  it('reconnects through a proxy that stalls without closing (watchdog), and resumes without loss', async () => {
    const hub = testHub({ heartbeatMs: 100 })
    const app = await serve({ hub })
    const proxy = await startProxy(portOf(app.url))
    cleanup.push(() => proxy.close())
    const { recording, callbacks } = recorder()
    const client = open(
      connect(`http://127.0.0.1:${proxy.port}/events`, {
        topics: 'feed',
        watchdogMs: 1500,
        reconnect: { initialDelayMs: 50 },
        ...callbacks,
      }),
    )
    void collect(client, recording)
    await waitFor(() => hub.subscriberCount('feed') === 1, 'the subscription')
    await hub.publish('feed', { data: '1' })
    await waitFor(() => recording.events.length === 1, 'event 1')

    proxy.stall()
    await hub.publish('feed', { data: '2' })
    await hub.publish('feed', { data: '3' })
    await waitFor(() => recording.reconnects.length >= 1, 'the watchdog', 10_000)
    expect(recording.reconnects[0]?.reason.code).toBe('ERR_SSE_STALLED')
    await waitFor(() => recording.events.length === 3, 'events 2-3 replayed after the reconnect', 10_000)
    await hub.publish('feed', { data: '4' })
    await waitFor(() => recording.events.length === 4, 'event 4')
    expect(dataOf(recording)).toEqual(['1', '2', '3', '4'])
    expect(proxy.connections).toBe(2)
    expect(recording.opens).toBe(2)
  })
})
