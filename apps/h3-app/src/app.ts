import { once } from 'node:events'
import http from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { type CloseOptions, createHub, type Hub, publishFromBody } from '@herald/sse-core'
import { sse } from '@herald/sse-h3'
import compression from 'compression'
import { assertBodySize, fromNodeHandler, H3, HTTPError, html, type NodeMiddleware, raw } from 'h3'
import { serve } from 'h3/node'
import { PAGE } from './page.js'

/** The token `/events-private` accepts (`Authorization: Bearer <token>`); set EVENTS_TOKEN in real use. */
const EVENTS_TOKEN = process.env.EVENTS_TOKEN ?? 'sample-token'

// 401 without credentials, 403 with wrong ones; either way before any stream starts.
const checkToken = (header: string | null | undefined) =>
  header ? header === `Bearer ${EVENTS_TOKEN}` : ({ status: 401 } as const)

const MAX_BODY_BYTES = 64 * 1024
const JSON_TYPE = /^application\/json\s*(;|$)/i

/** The h3 app: the demo page, the event stream and the publish endpoint, behind compression. */
export function buildApp(hub: Hub): H3 {
  const app = new H3()
  // Express compression in front of everything, on purpose: the stream says `no-transform`, so it skips it.
  // (The cast: compression is typed for Express's request, h3 hands it Node's.)
  app.use(fromNodeHandler(compression() as NodeMiddleware))
  app.get('/', () => html(raw(PAGE)))
  // One subscriber per request: topics from `?topic=` (repeatable), replay from Last-Event-ID.
  app.get('/events', sse(hub))
  // Same stream behind a check: `Authorization: Bearer <EVENTS_TOKEN>`.
  app.get(
    '/events-private',
    sse(hub, { authorize: (event) => checkToken(event.req.headers.get('authorization')) }),
  )
  app.post('/publish', async (event) => {
    const type = event.req.headers.get('content-type')
    if (type !== null && !JSON_TYPE.test(type)) {
      event.res.status = 415
      return { error: `Content-Type must be application/json, got ${type}` }
    }
    let body: unknown
    try {
      assertBodySize(event, MAX_BODY_BYTES)
      body = JSON.parse(await event.req.text())
    } catch (error) {
      if (HTTPError.isError(error) && error.status === 413) {
        event.res.status = 413
        return { error: 'body is larger than 64 KiB' }
      }
      event.res.status = 400
      return { error: `body is not valid JSON: ${(error as Error).message}` }
    }
    // Checks the fields, publishes, and says what to answer: 200 { id }, 400 { error } or 503.
    const outcome = publishFromBody(hub, body)
    event.res.status = outcome.status
    return outcome.body
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
  /** Ends every stream (after `options`, e.g. a `retryMs` hint so clients come back), then the server. */
  close(options?: CloseOptions): Promise<void>
}

/**
 * Starts the app on node:http (or node:http2 for h2c) with srvx's Node handler, which hands the adapter
 * the raw Node response (the fast path) and lets Express middleware run.
 */
export async function start({
  port = 0,
  hub = createHub(),
  http2: h2c = false,
}: StartOptions = {}): Promise<RunningApp> {
  // `manual`: srvx only builds the handler; the server below is ours, so it can also be node:http2
  // (srvx listens with HTTP/2 only over TLS). `gracefulShutdown: false`: main.ts handles the signals.
  const { node } = serve(buildApp(hub), { manual: true, gracefulShutdown: false })
  const handler = node!.handler as http.RequestListener
  const server = h2c ? http2.createServer(handler as never) : http.createServer(handler)
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
