import { once } from 'node:events'
import http from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import {
  type CloseOptions,
  checkBearer,
  createHub,
  createPublishGuard,
  type Hub,
  publishFromBody,
} from '@herald/sse-core'
import { sse } from '@herald/sse-h3'
import compression from 'compression'
import { assertBodySize, fromNodeHandler, H3, HTTPError, html, type NodeMiddleware, raw } from 'h3'
import { serve } from 'h3/node'
import { PAGE } from './page.js'
import { resolveSecrets, type Secrets } from './tokens.js'

/** Topics under this prefix are served on `/events-private` only. */
const PRIVATE = 'private:'

const MAX_BODY_BYTES = 64 * 1024

/**
 * The h3 app: the demo page, the event stream (`private:` topics refused), the private stream (any
 * topic, `Authorization: Bearer <eventsToken>`) and the publish endpoint (`Bearer <publishToken>`),
 * behind compression.
 */
export function buildApp(hub: Hub, secrets: Secrets): H3 {
  const app = new H3()
  // Every answer says its Content-Type is the truth.
  app.use((event) => {
    event.res.headers.set('x-content-type-options', 'nosniff')
  })
  // Express compression in front of everything, on purpose: the stream says `no-transform`, so it skips it.
  // (The cast: compression is typed for Express's request, h3 hands it Node's.)
  app.use(fromNodeHandler(compression() as NodeMiddleware))
  app.get('/', () => html(raw(PAGE)))
  // One subscriber per request: topics from `?topic=` (repeatable), replay from Last-Event-ID.
  app.get(
    '/events',
    sse(hub, {
      authorize: (_event, { topics }) =>
        topics.some((topic) => topic.startsWith(PRIVATE))
          ? { status: 403, reason: `Forbidden: ${PRIVATE} topics are served on /events-private` }
          : true,
    }),
  )
  // Any topic, `private:` ones included, for `Authorization: Bearer <eventsToken>` (401 without, 403 wrong).
  app.get(
    '/events-private',
    sse(hub, {
      authorize: (event) => checkBearer(event.req.headers.get('authorization'), secrets.eventsToken),
    }),
  )
  // Content-Type JSON (415), no foreign Origin (403), the publish token (401/403): before the body is read.
  const guard = createPublishGuard({ token: secrets.publishToken, allowedOrigins: secrets.allowedOrigins })
  app.post('/publish', async (event) => {
    const { headers } = event.req
    const refused = guard({
      contentType: headers.get('content-type'),
      origin: headers.get('origin'),
      host: event.url.host,
      authorization: headers.get('authorization'),
    })
    if (refused) {
      event.res.status = refused.status
      return refused.body
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
    const outcome = await publishFromBody(hub, body)
    event.res.status = outcome.status
    for (const [name, value] of Object.entries(outcome.headers ?? {})) event.res.headers.set(name, value)
    return outcome.body
  })
  return app
}

export interface StartOptions extends Partial<Secrets> {
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
 * the raw Node response (the fast path) and lets Express middleware run. Tokens come from the options,
 * else from `PUBLISH_TOKEN` / `EVENTS_TOKEN` (see `resolveSecrets`: required in production).
 */
export async function start({
  port = 0,
  hub,
  http2: h2c = false,
  ...given
}: StartOptions = {}): Promise<RunningApp> {
  const secrets = resolveSecrets(given)
  hub ??= createHub()
  // `manual`: srvx only builds the handler; the server below is ours, so it can also be node:http2
  // (srvx listens with HTTP/2 only over TLS). `gracefulShutdown: false`: main.ts handles the signals.
  const { node } = serve(buildApp(hub, secrets), { manual: true, gracefulShutdown: false })
  const handler = node!.handler as http.RequestListener
  const server = h2c
    ? http2.createServer(handler as never)
    : http.createServer(
        {
          // A client gets 10 s to send its headers and 30 s for its whole request (a publish body is at
          // most 64 KiB), checked every second: Node's 60 s / 300 s let slow senders hold sockets for
          // minutes. An event stream is a GET, complete with its headers, so it is not affected.
          headersTimeout: 10_000,
          requestTimeout: 30_000,
          connectionsCheckingInterval: 1000,
        },
        handler,
      )
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
