import { once } from 'node:events'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { createHub, type Hub } from '@herald/sse-core'
import { sse } from '@herald/sse-hono'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { compress } from 'hono/compress'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { PAGE } from './page.js'
import { publishFromBody } from './publish.js'

/** Retry hint sent to clients when the server shuts down, so they come back soon after a restart. */
const RESTART_RETRY_MS = 1000

/** The Hono app: the demo page, the event stream and the publish endpoint, behind compression. */
export function buildApp(hub: Hub): Hono {
  const app = new Hono()
  // Compression in front of everything, on purpose: the stream says `no-transform`, so compress() skips it.
  app.use(compress())
  app.get('/', (c) => c.html(PAGE))
  // One subscriber per request: topics from `?topic=` (repeatable), replay from Last-Event-ID.
  app.get('/events', sse(hub))
  app.post('/publish', async (c) => {
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return c.json({ error: 'body must be valid JSON' }, 400)
    }
    const { status, body: answer } = publishFromBody(hub, body)
    return c.json(answer, status as ContentfulStatusCode)
  })
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
  /** Ends every stream (with a retry hint), then stops the server. */
  close(): Promise<void>
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
    async close() {
      await hub.close({ retryMs: RESTART_RETRY_MS })
      const closed = new Promise((resolve) => server.close(resolve))
      // Idle keep-alive connections (HTTP/1.1) and sessions (h2c) would otherwise hold the server open.
      if ('closeAllConnections' in server) server.closeAllConnections()
      for (const session of sessions) session.close()
      await closed
    },
  }
}
