// The client against small node:http servers that do one thing each (replay everything, answer 204, send
// HTML, fail with 500 first, …), and against a sample app for backpressure and the gap notice.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { startServer, type TestServer } from '@herald/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, HeraldClientError, HeraldHttpError, type SseClient } from '../src/index.js'
import { collect, dataOf, recorder, SAMPLE_APPS, testHub, waitFor } from './helpers.js'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

interface Seen {
  method: string
  url: URL
  headers: IncomingMessage['headers']
  body: string
}

/** A server whose `n`-th request (from 0) is answered by `handler`; records every request it got. */
async function server(handler: (res: ServerResponse, n: number, req: Seen) => void | Promise<void>) {
  const seen: Seen[] = []
  const s: TestServer = await startServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const request = {
      method: req.method ?? '',
      url: new URL(req.url ?? '/', 'http://x'),
      headers: req.headers,
      body,
    }
    seen.push(request)
    await handler(res, seen.length - 1, request)
  })
  cleanup.push(() => s.close())
  return { url: s.url, seen }
}

const stream = (res: ServerResponse, text = '') => {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  res.write(text)
}

function open<M extends Record<string, unknown>>(client: SseClient<M>): SseClient<M> {
  cleanup.push(() => client.close())
  return client
}

const failure = (client: SseClient<never> | SseClient) =>
  client.closed.then(
    () => undefined,
    (error: HeraldClientError) => error,
  )

describe('resume', () => {
  it('drops events it already delivered when a server replays them, and forgets nothing newer', async () => {
    // This server ignores Last-Event-ID: every connection starts from event 1 (first 3, then 5).
    const events = (to: number) =>
      Array.from({ length: to }, (_, i) => `id: ${i + 1}\ndata: ${i + 1}\n\n`).join('')
    for (const rememberIds of [1000, 0]) {
      const { url, seen } = await server((res, n) => {
        stream(res, events(n === 0 ? 3 : 5))
        if (n === 0) res.end()
      })
      const { recording, callbacks } = recorder()
      const client = open(connect(url, { rememberIds, reconnect: { initialDelayMs: 0 }, ...callbacks }))
      void collect(client, recording)
      await waitFor(() => recording.events.at(-1)?.data === '5', 'event 5')
      client.close()
      // With no memory of ids, the replayed 1-3 come through again: the window is what drops them.
      expect(dataOf(recording).join()).toBe(rememberIds ? '1,2,3,4,5' : '1,2,3,1,2,3,4,5')
      expect(seen[1]?.headers['last-event-id']).toBe('3')
    }
  })

  it('resends a POST body and fresh headers on every attempt, with the id as header and, when asked, as query', async () => {
    let token = 0
    const { url, seen } = await server((res, n) => {
      stream(res, n === 0 ? 'id: évent-1\ndata: first\n\n' : 'data: second\n\n')
      if (n === 0) res.end()
    })
    const { recording, callbacks } = recorder()
    const client = open(
      connect(url, {
        method: 'POST',
        body: () => JSON.stringify({ want: 'builds' }),
        headers: () => ({ 'content-type': 'application/json', 'x-token': String(++token) }),
        lastEventIdQuery: 'since',
        lastEventId: 'start',
        reconnect: { initialDelayMs: 0 },
        ...callbacks,
      }),
    )
    void collect(client, recording)
    await waitFor(() => recording.events.length === 2, 'two events')
    expect(
      seen.map((s) => [s.method, s.body, s.headers['x-token'], s.url.searchParams.get('since')]),
    ).toEqual([
      ['POST', '{"want":"builds"}', '1', 'start'],
      ['POST', '{"want":"builds"}', '2', 'évent-1'],
    ])
    // Header values travel as bytes: the non-ASCII id is its UTF-8 encoding (Node shows it as latin1).
    expect(Buffer.from(seen[1]?.headers['last-event-id'] as string, 'latin1').toString('utf8')).toBe(
      'évent-1',
    )
    expect(seen[0]?.headers['last-event-id']).toBe('start')
    expect(seen[0]?.headers.accept).toBe('text/event-stream')
  })

  it('an id without data moves the resume point; a stream cut inside an event does not', async () => {
    const { url, seen } = await server((res, n) => {
      stream(res, ['id: a\ndata: one\n\nid: b\n\n', 'id: c\ndata: cut mid-ev', ''][n])
      if (n < 2) res.end()
    })
    const { recording, callbacks } = recorder()
    const client = open(connect(url, { reconnect: { initialDelayMs: 0 }, ...callbacks }))
    void collect(client, recording)
    await waitFor(() => seen.length === 3, 'three requests')
    expect(seen.map((s) => s.headers['last-event-id'])).toEqual([undefined, 'b', 'b'])
    expect(dataOf(recording)).toEqual(['one'])
    expect(client.lastEventId).toBe('b')
  })
})

describe('what stops it and what does not', () => {
  it('204: closes without an error, as the standard says', async () => {
    const { url, seen } = await server((res) => {
      res.writeHead(204).end()
    })
    const { recording, callbacks } = recorder()
    const client = open(connect(url, callbacks))
    expect(await collect(client, recording)).toBe('done')
    await client.closed
    expect(client.state).toBe('closed')
    expect(seen).toHaveLength(1)
    expect(recording.errors).toEqual([])
  })

  it.each([403, 404, 410])('%i: stops with the status and the body', async (status) => {
    const { url, seen } = await server((res) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"no"}')
    })
    const client = open(connect(url, { reconnect: { initialDelayMs: 0 } }))
    const error = await failure(client)
    expect(error).toBeInstanceOf(HeraldHttpError)
    expect(error).toMatchObject({ status, body: '{"error":"no"}', code: 'ERR_SSE_HTTP_STATUS' })
    expect(seen).toHaveLength(1)
  })

  it('2xx that is not an event stream: stops with ERR_SSE_CONTENT_TYPE and the body (an HTML login page)', async () => {
    const { url } = await server((res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Please log in</h1>')
    })
    const error = await failure(open(connect(url)))
    expect(error).toBeInstanceOf(HeraldHttpError)
    expect(error).toMatchObject({ code: 'ERR_SSE_CONTENT_TYPE', status: 200, body: '<h1>Please log in</h1>' })
    expect(error?.message).toBe('Expected text/event-stream, got text/html (status 200)')
  })

  it('500, 502, 408 and 429 without Retry-After: retries with backoff, reporting each reason', async () => {
    const statuses = [500, 502, 408, 429]
    const { url } = await server((res, n) => {
      if (n < statuses.length) res.writeHead(statuses[n]!).end(`fail ${n}`)
      else stream(res, 'data: finally\n\n')
    })
    const { recording, callbacks } = recorder()
    const client = open(connect(url, { reconnect: { initialDelayMs: 1, maxDelayMs: 20 }, ...callbacks }))
    void collect(client, recording)
    await waitFor(() => recording.events.length === 1, 'the event after the failures')
    expect(
      recording.reconnects.map((r) => [
        r.attempt,
        (r.reason as HeraldHttpError).status,
        (r.reason as HeraldHttpError).body,
      ]),
    ).toEqual(statuses.map((s, i) => [i + 1, s, `fail ${i}`]))
    expect(recording.reconnects.every((r) => r.delayMs <= 20)).toBe(true)
  })

  it('gives up after maxAttempts failures in a row with ERR_SSE_GAVE_UP (the last reason as cause)', async () => {
    const { url } = await server((res) => {
      res.writeHead(503).end('busy')
    })
    const { recording, callbacks } = recorder()
    const client = open(connect(url, { reconnect: { initialDelayMs: 1, maxAttempts: 3 }, ...callbacks }))
    const error = await failure(client)
    expect(error?.code).toBe('ERR_SSE_GAVE_UP')
    expect(error?.cause).toBeInstanceOf(HeraldHttpError)
    expect(recording.reconnects).toHaveLength(2)
  })

  it('a headers function that throws: ERR_SSE_REQUEST with the cause, retried like a network failure', async () => {
    const { url, seen } = await server((res) => stream(res, 'data: ok\n\n'))
    let calls = 0
    const { recording, callbacks } = recorder()
    const client = open(
      connect(url, {
        headers: () => {
          if (++calls === 1) throw new Error('token service down')
          return { authorization: 'Bearer t' }
        },
        reconnect: { initialDelayMs: 0 },
        ...callbacks,
      }),
    )
    void collect(client, recording)
    await waitFor(() => recording.events.length === 1, 'the event')
    expect(recording.reconnects[0]?.reason.code).toBe('ERR_SSE_REQUEST')
    expect((recording.reconnects[0]!.reason.cause as Error).message).toBe('token service down')
    expect(seen).toHaveLength(1)
  })

  it('data a parse function cannot read stops the client with ERR_SSE_PARSE (never skipped silently)', async () => {
    const { url } = await server((res) => stream(res, 'event: n\ndata: 1\n\nevent: n\ndata: {oops\n\n'))
    const { recording, callbacks } = recorder()
    const client = open(connect<{ n: number }>(url, { parse: { n: 'json' }, ...callbacks }))
    const ended = await collect(client, recording)
    expect(ended).toBeInstanceOf(HeraldClientError)
    expect(ended).toMatchObject({ code: 'ERR_SSE_PARSE', message: 'Cannot parse the data of "n"' })
    expect((ended as Error).cause).toBeInstanceOf(SyntaxError)
    expect(dataOf(recording, 'n')).toEqual([1])
    expect(recording.errors).toEqual([ended])
  })

  it('a line longer than maxEventLength stops it with ERR_SSE_EVENT_TOO_LARGE', async () => {
    const { url } = await server((res) => stream(res, `data: ${'x'.repeat(5000)}`))
    const error = await failure(open(connect(url, { maxEventLength: 4096 })))
    expect(error?.code).toBe('ERR_SSE_EVENT_TOO_LARGE')
  })

  it('leaving a for-await loop closes the client and the request; so does the abort signal', async () => {
    const aborted: string[] = []
    const { url } = await server((res, n) => {
      stream(res, 'data: a\n\ndata: b\n\n')
      res.on('close', () => aborted.push(`request ${n}`))
    })
    const client = connect(url)
    for await (const event of client) {
      expect(event.data).toBe('a')
      break
    }
    expect(client.state).toBe('closed')
    await client.closed
    await waitFor(() => aborted.length === 1, 'the server to see the request end')

    const controller = new AbortController()
    const { recording, callbacks } = recorder()
    const second = connect(url, { signal: controller.signal, ...callbacks })
    await waitFor(() => recording.opens === 1, 'the second client to open')
    controller.abort()
    await second.closed
    await waitFor(() => aborted.length === 2, 'the server to see the second request end')
    expect(second.state).toBe('closed')
  })

  it('a listener can be removed; every listener sees (data, event)', async () => {
    const { url } = await server((res) => stream(res, 'event: t\nid: 1\ndata: x\n\nevent: t\ndata: y\n\n'))
    const client = open(connect(url))
    const first: unknown[] = []
    const second: unknown[] = []
    const off = client.on('t', (data, event) => {
      first.push([data, event.id, event.lastEventId])
      off()
    })
    client.on('t', (data) => second.push(data))
    await waitFor(() => second.length === 2, 'both events')
    expect(first).toEqual([['x', '1', '1']])
    expect(second).toEqual(['x', 'y'])
  })
})

describe('backpressure and gap', () => {
  it('a slow for-await loop stops the reading; the server drops for it and the gap arrives via onGap', async () => {
    const { start } = SAMPLE_APPS.find((a) => a.name === 'hono-app')!
    const hub = testHub({ slowConsumer: 'drop-oldest', budgetBytes: 64 * 1024, heartbeatMs: 0 })
    const app = await start({ hub })
    cleanup.push(() => app.close())
    const { recording, callbacks } = recorder()
    const client = open(connect(`${app.url}/events`, { topics: 'feed', watchdogMs: 0, ...callbacks }))
    const iterator = client[Symbol.asyncIterator]()
    await waitFor(() => hub.subscriberCount('feed') === 1, 'the subscription')
    // Nobody pulls from the iterator: once it holds 1000 events the client stops reading, the socket fills,
    // and the hub starts dropping the oldest queued events for this subscriber. Published a little at a
    // time (well under the budget per turn), so a client that kept reading would never be dropped for.
    const pad = 'x'.repeat(2048)
    let published = 0
    while (hub.metrics().dropped === 0 && published < 20_000) {
      for (let i = 0; i < 8; i++) await hub.publish('feed', { data: `${++published} ${pad}` })
      await new Promise((r) => setImmediate(r))
    }
    expect(hub.metrics().dropped).toBeGreaterThan(0)
    await hub.publish('feed', { event: 'last', data: String(++published) })
    const numbers: number[] = []
    for (;;) {
      const { value } = await iterator.next()
      if (value?.type === 'last') break
      if (value?.type === 'message') numbers.push(Number.parseInt(value.data, 10))
    }
    const dropped = recording.gaps.reduce((n, g) => n + (g.dropped ?? 0), 0)
    expect(dropped).toBe(hub.metrics().dropped)
    expect(numbers.length + dropped).toBe(published - 1)
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b))
    expect(recording.gaps[0]?.event.type).toBe('gap')
  })
})
