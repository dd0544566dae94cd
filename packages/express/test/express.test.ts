import { createServer } from 'node:http'
import http2 from 'node:http2'
import { createHub, HeraldError, type Hub } from '@herald/sse-core'
import {
  type AdapterTarget,
  describeAdapter,
  listen,
  openStream,
  recordProcessTrouble,
  type TestServer,
  waitFor,
} from '@herald/test-utils'
import compression from 'compression'
import express, { type ErrorRequestHandler, type Express } from 'express'
import express4 from 'express-4'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { HeraldUnsupportedProtocolError, sse } from '../src/index.js'

const majors = [
  ['Express 5', express],
  ['Express 4', express4],
] as const

/** The routes `describeAdapter` expects, behind `compression()`; `errors` collects what reached `next(err)`. */
function buildApp(createApp: typeof express, hub: Hub, paths: string[], errors: unknown[]): Express {
  const app = createApp()
  app.use(compression())
  app.use((_req, res, next) => {
    res.setHeader('x-before', 'yes')
    // Express only runs on Node, so every stream takes the Node sink: record each one that went out.
    res.on('close', () => {
      if (String(res.getHeader('content-type')).startsWith('text/event-stream')) paths.push('node')
    })
    next()
  })
  app.get('/events', sse(hub))
  app.get('/keyed', sse(hub, { clientKey: () => 'fixed' }))
  app.get(
    '/private',
    sse(hub, { authorize: (req) => req.headers.authorization === 'Bearer ok' || { status: 401 } }),
  )
  app.get('/forbidden', sse(hub, { authorize: () => false }))
  app.get(
    '/broken',
    sse(hub, {
      topics: () => {
        throw new Error('topics exploded')
      },
    }),
  )
  app.get('/big', (_req, res) => {
    res.type('text/plain').send('x'.repeat(4096))
  })
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    errors.push(err)
    res.status(500).json({ error: 'internal error' })
  }
  app.use(onError)
  return app
}

describeAdapter(
  '@herald/sse-express',
  majors.map(
    ([name, createApp]): AdapterTarget => ({
      name: `${name} behind compression() over HTTP/1.1`,
      sink: 'node',
      compression: true,
      remoteAddress: true,
      start: async (hub) => {
        const paths: string[] = []
        const app = buildApp(createApp, hub, paths, [])
        return { ...(await listen(createServer(app))), paths }
      },
    }),
  ),
)

// Across the whole file: no unhandled rejection, process warning or console error.
let trouble: ReturnType<typeof recordProcessTrouble>
beforeAll(() => {
  trouble = recordProcessTrouble()
})
afterAll(() => {
  trouble.stop()
  expect(trouble.problems).toEqual([])
})

describe.each(majors)('%s error handling', (_name, createApp) => {
  let hub: Hub
  let server: TestServer | undefined
  afterEach(async () => {
    await hub.close()
    await server?.close()
  })

  it('hands a throwing callback to next(err) and keeps client disconnects out of it', async () => {
    hub = createHub({ heartbeatMs: 0 })
    const errors: unknown[] = []
    server = await listen(createServer(buildApp(createApp, hub, [], errors)))

    const broken = await openStream(`${server.url}broken`)
    expect(broken.status).toBe(500)
    await broken.ended
    expect(errors).toEqual([expect.objectContaining({ message: 'topics exploded' })])
    expect(hub.subscriberCount()).toBe(0)

    const clients = await Promise.all(
      [1, 2, 3].map(() =>
        openStream(`${server!.url}events?topic=t`, { headers: { 'accept-encoding': 'gzip' } }),
      ),
    )
    await waitFor(() => hub.subscriberCount() === 3, 'three subscribers', 2000)
    hub.publish('t', { data: 'hello' })
    for (const client of clients) await client.waitForEvents(1)
    for (const client of clients) client.close()
    await waitFor(() => hub.subscriberCount() === 0, 'subscribers released', 1000)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(errors).toHaveLength(1)
  })
})

describe('HTTP/2', () => {
  let server: TestServer | undefined
  afterEach(async () => {
    await server?.close()
  })

  it('refuses an HTTP/2 request with a typed 505 error through next() instead of crashing', async () => {
    const hub = createHub({ heartbeatMs: 0 })
    const handler = sse(hub)
    const seen: unknown[] = []
    // Express itself cannot be mounted on node:http2 (it swaps the request prototype and fails before any
    // route runs), so here a plain HTTP/2 server calls the handler with connect-style arguments.
    const h2 = http2.createServer((req, res) => {
      handler(req as never, res as never, (err?: unknown) => {
        seen.push(err)
        const status = err instanceof HeraldUnsupportedProtocolError ? err.status : 500
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(err instanceof Error ? err.message : 'no error')
      })
    })
    server = await listen(h2)

    const client = await openStream(`${server.url}events?topic=news`, { http2: true })
    expect(client.status).toBe(505)
    await client.ended
    expect(client.text).toMatch(/Express does not run on node:http2/)
    expect(seen).toHaveLength(1)
    expect(seen[0]).toBeInstanceOf(HeraldError)
    expect(seen[0]).toMatchObject({ code: 'ERR_HERALD_HTTP2_UNSUPPORTED', status: 505 })
    expect(hub.subscriberCount()).toBe(0)
    await hub.close()
  })
})
