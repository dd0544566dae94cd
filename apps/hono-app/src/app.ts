import { once } from 'node:events'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { type CloseOptions, createHub, type Hub, publishFromBody } from '@herald/sse-core'
import { sse } from '@herald/sse-hono'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { compress } from 'hono/compress'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { PAGE } from './page.js'

/** The token `/events-private` accepts (`Authorization: Bearer <token>`); set EVENTS_TOKEN in real use. */
const EVENTS_TOKEN = process.env.EVENTS_TOKEN ?? 'sample-token'

// 401 without credentials, 403 with wrong ones; either way before any stream starts.
const checkToken = (header: string | null | undefined) =>
  header ? header === `Bearer ${EVENTS_TOKEN}` : ({ status: 401 } as const)

const MAX_BODY_BYTES = 64 * 1024
const JSON_TYPE = /^application\/json\s*(;|$)/i

/** The Hono app: the demo page, the event stream and the publish endpoint, behind compression. */
export function buildApp(hub: Hub): Hono {
  const app = new Hono()
  // Compression in front of everything, on purpose: the stream says `no-transform`, so compress() skips it.
  app.use(compress())
  app.get('/', (c) => c.html(PAGE))
  // One subscriber per request: topics from `?topic=` (repeatable), replay from Last-Event-ID.
  app.get('/events', sse(hub))
  // Same stream behind a check: `Authorization: Bearer <EVENTS_TOKEN>`.
  app.get('/events-private', sse(hub, { authorize: (c) => checkToken(c.req.header('authorization')) }))
  app.post(
    '/publish',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json({ error: 'body is larger than 64 KiB' }, 413),
    }),
    async (c) => {
      const type = c.req.header('content-type')
      if (type !== undefined && !JSON_TYPE.test(type)) {
        return c.json({ error: `Content-Type must be application/json, got ${type}` }, 415)
      }
      let body: unknown
      try {
        body = JSON.parse(await c.req.text())
      } catch (error) {
        return c.json({ error: `body is not valid JSON: ${(error as Error).message}` }, 400)
      }
      // Checks the fields, publishes, and says what to answer: 200 { id }, 400 { error } or 503.
      const { status, body: answer } = publishFromBody(hub, body)
      return c.json(answer, status as ContentfulStatusCode)
    },
  )
  return app
}

export interface StartOptions {
  /** Port to listen on; 0 picks a free one. */
  port?: number
  hub?: Hub
  /** Serve HTTP/2 over cleartext (h2c) instead of HTTP/1.1. */
  http2?: boolean
}

export interface RunningApp {
  url: string
  hub: Hub
  /** Ends every stream (after `options`, e.g. a `retryMs` hint so clients come back), then the server. */
  close(options?: CloseOptions): Promise<void>
}

/** Starts the app on @hono/node-server, which hands the adapter the raw Node response (the fast path). */
export async function start({
  port = 0,
  hub = createHub(),
  http2: h2c = false,
}: StartOptions = {}): Promise<RunningApp> {
  const server = createAdaptorServer({
    fetch: buildApp(hub).fetch,
    ...(h2c && { createServer: http2.createServer }),
  })
  server.listen(port)
  await once(server, 'listening')
  const sessions = new Set<http2.ServerHttp2Session>()
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    hub,
    async close(options) {
      // Streams never end on their own: end them through the hub, then drop idle connections.
      if (!hub.closed) await hub.close(options)
      const closed = new Promise((resolve) => server.close(resolve))
      // Idle keep-alive connections (HTTP/1.1) and sessions (h2c) would otherwise hold the server open.
      if ('closeAllConnections' in server) server.closeAllConnections()
      for (const session of sessions) session.close()
      await closed
    },
  }
}
