import { once } from 'node:events'
import http from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { createHub, type Hub } from '@herald/sse-core'
import { sse } from '@herald/sse-h3'
import compression from 'compression'
import { fromNodeHandler, H3, html, type NodeMiddleware, raw } from 'h3'
import { serve } from 'h3/node'
import { PAGE } from './page.js'
import { publishFromBody } from './publish.js'

/** Retry hint sent to clients when the server shuts down, so they come back soon after a restart. */
const RESTART_RETRY_MS = 1000

/** The h3 app: the demo page, the event stream and the publish endpoint, behind compression. */
export function buildApp(hub: Hub): H3 {
  const app = new H3()
  // Express compression in front of everything, on purpose: the stream says `no-transform`, so it skips it.
  // (The cast: compression is typed for Express's request, h3 hands it Node's.)
  app.use(fromNodeHandler(compression() as NodeMiddleware))
  app.get('/', () => html(raw(PAGE)))
  // One subscriber per request: topics from `?topic=` (repeatable), replay from Last-Event-ID.
  app.get('/events', sse(hub))
  app.post('/publish', async (event) => {
    let body: unknown
    try {
      body = await event.req.json()
    } catch {
      event.res.status = 400
      return { error: 'body must be valid JSON' }
    }
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
  /** Ends every stream (with a retry hint), then stops the server. */
  close(): Promise<void>
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
