// One set of adapter tests, run by each adapter package against every server it supports (real sockets).
// Part of the private @herald/test-utils package.

import {
  openStream,
  rawRequest,
  recordProcessTrouble,
  type StreamClient,
  waitFor,
} from '@herald/sse-conformance/helpers'
import type { Hub, HubOptions } from '@herald/sse-core'
import { createHub } from '@herald/sse-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

/** The full header a browser sends; compression middleware picks gzip or br from it. */
export const ACCEPT_ALL = 'gzip, deflate, br, zstd'

export interface AdapterServer {
  /** Base URL with a trailing slash. */
  url: string
  /** The Node server the framework runs on, when it writes to Node responses (to set its timeouts). */
  server?: { setTimeout(ms: number): unknown }
  /** Which sink each admitted stream took, in order ('node' or 'web'), as the framework app observed it. */
  paths: string[]
  close(): Promise<void>
}

/**
 * A server an adapter supports. `start(hub)` must serve, behind the framework's compression middleware
 * (when `compression` is true) and a middleware that sets `x-before: yes` on every response:
 * - `GET /events`: `sse(hub)` with default options;
 * - `GET /keyed`: `sse(hub, { clientKey: () => 'fixed' })`;
 * - `GET /private`: `sse(hub, { authorize })` that admits `Authorization: Bearer ok` and else returns
 *   `{ status: 401 }`;
 * - `GET /forbidden`: `sse(hub, { authorize: () => false })`;
 * - `GET /big`: 4 KiB of `text/plain` (proves the compression middleware is really active).
 */
export interface AdapterTarget {
  name: string
  /** The sink this server must take. */
  sink: 'node' | 'web'
  http2?: boolean
  compression: boolean
  /** Whether the adapter sees a remote address (the default client key). */
  remoteAddress: boolean
  start(hub: Hub): Promise<AdapterServer>
}

/** Runs the adapter cases against each target. */
export function describeAdapter(adapter: string, targets: AdapterTarget[]): void {
  describe.each(targets)(`${adapter} on $name`, (target) => {
    let trouble: ReturnType<typeof recordProcessTrouble>
    let hub: Hub | undefined
    let server: AdapterServer | undefined
    const clients: StreamClient[] = []

    beforeAll(() => {
      trouble = recordProcessTrouble()
    })
    afterEach(async () => {
      for (const c of clients.splice(0)) c.close()
      await hub?.close()
      await server?.close()
      hub = server = undefined
    })
    afterAll(() => {
      trouble.stop()
      expect(trouble.problems).toEqual([])
    })

    async function boot(options: HubOptions = {}) {
      hub = createHub({ heartbeatMs: 0, ...options })
      server = await target.start(hub)
      return { hub, server }
    }
    async function open(path: string, headers: Record<string, string> = {}) {
      const client = await openStream(server!.url + path, { headers, http2: target.http2 })
      clients.push(client)
      return client
    }

    it('sends the SSE headers at once, before any event, on the expected sink', async () => {
      const { hub } = await boot()
      // A first stream loads lazily imported modules; the timing below is about the steady state.
      const warm = await open('events?topic=warm')
      warm.close()
      await waitFor(() => hub.subscriberCount() === 0, 'warm-up stream released', 2000)

      const client = await open('events?topic=news', { 'accept-encoding': ACCEPT_ALL })
      expect(client.status).toBe(200)
      expect(client.headersAfterMs).toBeLessThan(100)
      expect(client.events).toEqual([])
      const h = client.headers
      expect(h['content-type']).toBe('text/event-stream; charset=utf-8')
      expect(h['cache-control']).toMatch(/no-cache/)
      expect(h['cache-control']).toMatch(/no-transform/)
      expect(h['x-accel-buffering']).toBe('no')
      expect(h['x-content-type-options']).toBe('nosniff')
      expect(h['content-length']).toBeUndefined()
      expect(h['content-encoding']).toBeUndefined()
      expect(h['x-before']).toBe('yes')
      if (target.http2) {
        for (const name of ['connection', 'keep-alive', 'transfer-encoding']) expect(h[name]).toBeUndefined()
      }
      await waitFor(() => hub.subscriberCount('news') === 1, 'subscribed', 2000)
      const id = await hub.publish('news', { data: 'first' })
      expect(await client.waitForEvents(1)).toEqual([{ id, data: 'first', event: undefined }])
      // Some frameworks see a Node-sink stream settle only when it ends.
      client.close()
      await waitFor(() => server!.paths.length === 2, 'both streams recorded', 2000)
      expect(server!.paths).toEqual([target.sink, target.sink])
    })

    it(`streams every event at once${target.compression ? ' through compression' : ''}`, async () => {
      const { hub } = await boot()
      if (target.compression) {
        // The middleware is live: a plain text response is compressed.
        const big = await open('big', { 'accept-encoding': ACCEPT_ALL })
        expect(big.headers['content-type']).toMatch(/^text\/plain/)
        expect(big.headers['content-encoding']).toMatch(/^(gzip|br|deflate|zstd)$/)
      }
      const client = await open('events?topic=a&topic=b', { 'accept-encoding': ACCEPT_ALL })
      expect(client.headers['content-encoding']).toBeUndefined()
      await waitFor(() => hub.subscriberCount() === 1, 'subscribed', 2000)
      const delays: number[] = []
      for (let i = 0; i < 5; i++) {
        const sent = performance.now()
        hub.publish(i % 2 ? 'b' : 'a', { event: 'tick', data: `${i}\nline two` })
        await client.waitForEvents(i + 1, 2000)
        delays.push(performance.now() - sent)
      }
      expect(client.events.map((e) => e.data)).toEqual([0, 1, 2, 3, 4].map((i) => `${i}\nline two`))
      // An event held back by a compressor would not arrive at all; this bound is deliberately loose.
      expect(Math.max(...delays)).toBeLessThan(1000)
    })

    it('replays what a client missed, from the Last-Event-ID header or the lastEventId query', async () => {
      const { hub } = await boot()
      const ids = await Promise.all(['one', 'two', 'three'].map((data) => hub.publish('r', { data })))
      const byHeader = await open('events?topic=r', { 'last-event-id': ids[0]! })
      expect((await byHeader.waitForEvents(2)).map((e) => e.data)).toEqual(['two', 'three'])
      const byQuery = await open(`events?topic=r&lastEventId=${encodeURIComponent(ids[1]!)}`)
      expect((await byQuery.waitForEvents(1)).map((e) => e.data)).toEqual(['three'])
      hub.publish('r', { data: 'four' })
      expect((await byHeader.waitForEvents(3))[2]!.data).toBe('four')
      expect((await byQuery.waitForEvents(2))[1]!.data).toBe('four')
    })

    it('releases the subscriber within a second of the client going away', async () => {
      const { hub } = await boot()
      const client = await open('events?topic=gone')
      await waitFor(() => hub.subscriberCount('gone') === 1, 'subscribed', 2000)
      client.close()
      await waitFor(() => hub.subscriberCount() === 0, 'subscriber released', 1000)
      // Publishing to a topic whose only client left must not throw or write anywhere.
      hub.publish('gone', { data: 'nobody listens' })
      expect(hub.metrics().delivered).toBe(0)
    })

    it('ends open streams when the hub closes', async () => {
      const { hub } = await boot()
      const client = await open('events?topic=bye')
      await waitFor(() => hub.subscriberCount() === 1, 'subscribed', 2000)
      await hub.close({ event: { event: 'shutdown', data: 'later' }, retryMs: 2000 })
      await client.ended
      expect(client.events.at(-1)).toMatchObject({ event: 'shutdown', data: 'later' })
      expect(client.text).toMatch(/retry: 2000\n/)
    })

    it.skipIf(target.http2)('answers HEAD with the SSE headers and no subscription', async () => {
      let subscribed = 0
      const { server } = await boot({ onSubscribe: () => void subscribed++ })
      const res = await fetch(`${server.url}events?topic=news`, { method: 'HEAD' })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
      // A stream the framework would have kept open (and then thrown away) shows up as a subscription.
      await new Promise((r) => setTimeout(r, 50))
      expect(subscribed).toBe(0)
    })

    it('answers 400, 401 and 403 before any stream starts', async () => {
      const { hub } = await boot()
      const cases: [string, Record<string, string>, number][] = [
        ['events', {}, 400],
        ['private?topic=p', {}, 401],
        ['private?topic=p', { authorization: 'Bearer nope' }, 401],
        ['forbidden?topic=p', {}, 403],
      ]
      for (const [path, headers, status] of cases) {
        const client = await open(path, headers)
        expect(client.status, path).toBe(status)
        expect(client.headers['content-type'] ?? '', path).not.toMatch(/event-stream/)
        await client.ended
      }
      const admitted = await open('private?topic=p', { authorization: 'Bearer ok' })
      expect(admitted.status).toBe(200)
      await waitFor(() => hub.subscriberCount('p') === 1, 'admitted', 2000)
    })

    // A test client cannot send this target; Hono's and h3's Node servers refuse it themselves (empty 400).
    it.skipIf(target.http2 || target.sink === 'web')(
      'answers 400 to a request URL it cannot parse, before authorize, with no stack and nothing logged',
      async () => {
        const { hub, server } = await boot()
        for (const path of ['/events?topic=t', '/private?topic=t']) {
          const res = await rawRequest(server.url, `GET http://a:99999${path} HTTP/1.1`)
          expect(res.status, path).toBe(400)
          expect(res.body, path).not.toMatch(/\bat |node:|\.[cm]?[jt]s\b|Error/)
          expect(res.body.trim().split('\n').length, path).toBe(1)
        }
        expect(hub.subscriberCount()).toBe(0)
      },
    )

    it.skipIf(target.sink === 'web')(
      "keeps an idle stream open through the server's socket timeout (setTimeout(1500))",
      async () => {
        const { hub, server } = await boot()
        if (!server.server) throw new Error(`${target.name}: start() must return its Node server`)
        server.server.setTimeout(1500)
        const client = await open('events?topic=idle')
        expect(client.status).toBe(200)
        await waitFor(() => hub.subscriberCount('idle') === 1, 'subscribed', 2000)
        await new Promise((resolve) => setTimeout(resolve, 4000))
        expect(client.isEnded).toBe(false)
        const id = await hub.publish('idle', { data: 'late' })
        expect(await client.waitForEvents(1, 2000)).toEqual([{ id, data: 'late', event: undefined }])
      },
    )

    it('answers 503 and 429 with Retry-After when a limit is reached', async () => {
      const { hub } = await boot({ maxSubscribers: 3, maxSubscribersPerClient: 2 })
      // `/events` keys clients by remote address, `/keyed` by a fixed key. Without a remote address the
      // default key is absent and only `/keyed` meets the per-client limit.
      const [limited, other] = target.remoteAddress ? ['events', 'keyed'] : ['keyed', 'events']
      for (let i = 0; i < 2; i++) expect((await open(`${limited}?topic=l`)).status).toBe(200)
      await waitFor(() => hub.subscriberCount() === 2, 'two subscribed', 2000)
      const perClient = await open(`${limited}?topic=l`)
      expect(perClient.status).toBe(429)
      expect(Number(perClient.headers['retry-after'])).toBeGreaterThan(0)
      expect(perClient.headers['content-type'] ?? '').not.toMatch(/event-stream/)

      expect((await open(`${other}?topic=l`)).status).toBe(200)
      await waitFor(() => hub.subscriberCount() === 3, 'three subscribed', 2000)
      const overall = await open(`${other}?topic=l`)
      expect(overall.status).toBe(503)
      expect(Number(overall.headers['retry-after'])).toBeGreaterThan(0)
      expect(overall.headers['content-type'] ?? '').not.toMatch(/event-stream/)
      expect(hub.subscriberCount()).toBe(3)
    })
  })
}
