import http2 from 'node:http2'
import { connect } from '@herald/sse-client'
import { EventSource } from 'eventsource'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Dashboard, start } from '../src/app.js'
import type { DashboardMetrics } from '../src/metrics.js'

const post = (url: string, body: string, type = 'application/json') =>
  fetch(`${url}/builds`, { method: 'POST', headers: { 'content-type': type }, body })

describe('POST /builds refuses bad input with a 4xx and a reason, and starts nothing', () => {
  let d: Dashboard
  beforeAll(async () => {
    d = await start({ builds: { maxConcurrent: 2, speed: 1, failureRate: 0 } })
  })
  afterAll(() => d.close())

  it.each([
    ['{bad', 'body is not valid JSON'],
    ['[1, 2]', 'Invalid build body: must be a JSON object'],
    ['"name"', 'Invalid build body: must be a JSON object'],
    ['null', 'Invalid build body: must be a JSON object'],
    ['{"name": 42}', 'Invalid build name: must be a string, got number'],
    ['{"name": "   "}', 'Invalid build name: must be 1 to 60 characters'],
    [`{"name": "${'x'.repeat(61)}"}`, 'Invalid build name: must be 1 to 60 characters'],
    ['{"name": "a\\u0007b"}', 'Invalid build name: must not contain control characters'],
    ['{"durationSeconds": "30"}', 'Invalid build durationSeconds: must be a number from 5 to 300, got "30"'],
    ['{"durationSeconds": 1}', 'Invalid build durationSeconds: must be a number from 5 to 300, got 1'],
    ['{"durationSeconds": 1e9}', 'Invalid build durationSeconds: must be a number from 5 to 300'],
    ['{"color": "red"}', 'Invalid build color: is not a known field (allowed: name, durationSeconds)'],
  ])('%s → 400', async (body, reason) => {
    const res = await post(d.url, body)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const json = (await res.json()) as { error: string }
    expect(json.error).toContain(reason)
    expect(d.runner.snapshot().builds).toEqual([])
  })

  it('415 for a body that is not declared as JSON (so another site cannot start builds with a plain form)', async () => {
    const res = await post(d.url, '{"name":"x"}', 'application/x-www-form-urlencoded')
    expect(res.status).toBe(415)
    expect(((await res.json()) as { error: string }).error).toBe(
      'Content-Type must be application/json, got application/x-www-form-urlencoded',
    )
    expect(d.runner.snapshot().builds).toEqual([])
  })

  it('415 for a JSON body sent without a Content-Type', async () => {
    const res = await fetch(`${d.url}/builds`, { method: 'POST', body: new Blob(['{"name":"x"}']) })
    expect(res.status).toBe(415)
    expect(((await res.json()) as { error: string }).error).toBe(
      'Content-Type must be application/json, got (none)',
    )
    expect(d.runner.snapshot().builds).toEqual([])
  })

  it('413 for a body over 16 KiB', async () => {
    const res = await post(d.url, JSON.stringify({ name: 'x', pad: 'y'.repeat(20_000) }))
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: string }).error).toBe('body is larger than 16 KiB')
    expect(d.runner.snapshot().builds).toEqual([])
  })

  it('201 with the id; past the concurrency limit 429 with a reason and Retry-After', async () => {
    const first = await post(d.url, JSON.stringify({ name: 'one', durationSeconds: 300 }))
    expect(first.status).toBe(201)
    expect(await first.json()).toEqual({ id: expect.stringMatching(/^[0-9a-z]{4}-1$/) })
    // An empty body means "all defaults".
    const second = await post(d.url, '')
    expect(second.status).toBe(201)
    const third = await post(d.url, '{}')
    expect(third.status).toBe(429)
    expect(third.headers.get('retry-after')).toBe('5')
    expect(await third.json()).toEqual({
      error: 'Too many concurrent builds (limit 2); wait for one to finish',
      code: 'ERR_DASHBOARD_TOO_MANY_BUILDS',
    })
    expect(d.runner.running).toBe(2)
  })
})

describe('GET /events', () => {
  let d: Dashboard
  beforeAll(async () => {
    d = await start({ builds: { speed: 50, failureRate: 0 }, metricsIntervalMs: 200 })
  })
  afterAll(() => d.close())

  it('answers with the SSE headers before any event', async () => {
    const ac = new AbortController()
    const res = await fetch(`${d.url}/events`, { signal: ac.signal })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform')
    ac.abort()
  })

  it('streams a whole build over /events (started, every stage, progress to 100, every log line once, finished), and metrics over /events/metrics', async () => {
    const es = new EventSource(`${d.url}/events`)
    const seen: Array<{ type: string; data: Record<string, unknown> }> = []
    const done = new Promise<void>((resolve, reject) => {
      es.onerror = (e) => reject(new Error(`stream error: ${e.message}`))
      for (const type of ['build-started', 'stage', 'progress', 'log', 'build-finished', 'metrics']) {
        es.addEventListener(type, (e) => {
          seen.push({ type, data: JSON.parse(e.data) })
          if (type === 'build-finished') resolve()
        })
      }
    })
    // The page reads metrics with @herald/sse-client; so does this test.
    const metrics: DashboardMetrics[] = []
    const metricsStream = connect<{ metrics: DashboardMetrics }>(`${d.url}/events/metrics`, {
      parse: { metrics: 'json' },
    })
    metricsStream.on('metrics', (m) => metrics.push(m))
    await new Promise<void>((resolve) => es.addEventListener('connected', () => resolve()))
    const res = await post(d.url, JSON.stringify({ name: 'api', durationSeconds: 20 }))
    const { id } = (await res.json()) as { id: string }
    await done
    // One more metrics tick after the build.
    const ticks = metrics.length
    await expect.poll(() => metrics.length).toBeGreaterThan(ticks)
    es.close()
    metricsStream.close()

    const of = (type: string) => seen.filter((e) => e.type === type).map((e) => e.data)
    expect(of('build-started')).toEqual([expect.objectContaining({ id, name: 'api', status: 'running' })])
    expect(of('stage').map((s) => s.stage)).toEqual(['install', 'test', 'deploy'])
    const percents = of('progress').map((p) => p.percent as number)
    expect(percents.at(-1)).toBe(100)
    expect(percents).toEqual([...percents].sort((a, b) => a - b))
    const lines = of('log')
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1))
    expect(lines.length).toBeGreaterThan(200)
    expect(of('build-finished')).toEqual([
      expect.objectContaining({ build: id, status: 'succeeded', percent: 100, lines: lines.length }),
    ])
    expect(of('metrics'), 'metrics have their own stream').toEqual([])
    const last = metrics.at(-1)!
    expect(last.clients, 'two open streams: builds and metrics').toBe(2)
    expect(last.published).toBeGreaterThan(lines.length)
    expect(last).toMatchObject({ dropped: 0, slowConsumerDisconnects: 0, runningBuilds: 0 })
  })

  it('serves @herald/sse-client to the page as one ES module with nothing left to resolve', async () => {
    const res = await fetch(`${d.url}/sse-client.js`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    const code = await res.text()
    expect(code).toContain('HeraldHttpError')
    expect(code).not.toMatch(/\bfrom\s*["']|\bimport\s*\(/)
    const client = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as {
      connect: typeof connect
    }
    const stream = client.connect(`${d.url}/events/metrics`, { parse: { metrics: 'json' } })
    const first = await stream[Symbol.asyncIterator]().next()
    expect(first.value?.type).toBe('connected')
    stream.close()
  })

  it('GET /metrics answers in the Prometheus text format, with subscribers per dashboard topic', async () => {
    const open = new EventSource(`${d.url}/events`)
    await new Promise((resolve) => open.addEventListener('connected', resolve, { once: true }))
    const res = await fetch(`${d.url}/metrics`)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    expect(text).toMatch(/^# TYPE herald_events_published_total counter$/m)
    expect(text).toMatch(/^herald_topic_subscribers\{topic="builds"\} 1$/m)
    open.close()
  })

  it('GET /api/info names the adapter and the transport path', async () => {
    const info = (await (await fetch(`${d.url}/api/info`)).json()) as Record<string, string>
    expect(info.summary).toBe('Hono 4 on @hono/node-server, Node sink (fast path), HTTP/1.1')
  })
})

describe('over HTTP/2 (h2c)', () => {
  it('serves the page info, the stream and POST /builds; close() ends the stream with the retry hint', async () => {
    const d = await start({ http2: true, builds: { speed: 20, failureRate: 0 } })
    const session = http2.connect(d.url)
    const request = (path: string, method = 'GET', body?: string) => {
      const req = session.request({
        ':path': path,
        ':method': method,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      })
      if (body !== undefined) req.end(body)
      else if (method !== 'GET') req.end()
      return req
    }
    const readAll = (req: http2.ClientHttp2Stream) =>
      new Promise<{ headers: http2.IncomingHttpHeaders; text: string }>((resolve, reject) => {
        let headers: http2.IncomingHttpHeaders = {}
        let text = ''
        req.setEncoding('utf8')
        req.on('response', (h) => {
          headers = h
        })
        req.on('data', (chunk: string) => {
          text += chunk
        })
        req.on('end', () => resolve({ headers, text }))
        req.on('error', reject)
      })

    const info = await readAll(request('/api/info'))
    expect(JSON.parse(info.text).summary).toBe('Hono 4 on @hono/node-server, Node sink (fast path), HTTP/2')

    const stream = request('/events')
    const streamed = readAll(stream)
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) =>
      stream.once('response', resolve),
    )
    expect(headers[':status']).toBe(200)
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(headers.connection).toBeUndefined()
    expect(headers['transfer-encoding']).toBeUndefined()

    const created = await readAll(request('/builds', 'POST', '{"durationSeconds":20}'))
    expect(created.headers[':status']).toBe(201)
    await expect.poll(() => d.runner.snapshot().builds[0]?.status, { timeout: 10_000 }).toBe('succeeded')

    await d.close()
    const { text } = await streamed
    session.close()
    expect(text).toContain('event: build-finished')
    expect(text.endsWith('event: shutdown\ndata: {"retryMs":1000}\n\nretry: 1000\n\n')).toBe(true)
  })
})
