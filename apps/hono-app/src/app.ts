import { once } from 'node:events'
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
import { sse } from '@herald/sse-hono'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { compress } from 'hono/compress'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { PAGE } from './page.js'
import { resolveSecrets, type Secrets } from './tokens.js'

/** Topics under this prefix are served on `/events-private` only. */
const PRIVATE = 'private:'

const MAX_BODY_BYTES = 64 * 1024

/**
 * The Hono app: the demo page, the event stream (`private:` topics refused), the private stream (any
 * topic, `Authorization: Bearer <eventsToken>`) and the publish endpoint (`Bearer <publishToken>`),
 * behind compression.
 */
export function buildApp(hub: Hub, secrets: Secrets): Hono {
  const app = new Hono()
  // Every answer says its Content-Type is the truth.
  app.use(async (c, next) => {
    c.header('X-Content-Type-Options', 'nosniff')
    await next()
  })
  // Compression in front of everything, on purpose: the stream says `no-transform`, so compress() skips it.
  app.use(compress())
  app.get('/', (c) => c.html(PAGE))
  // One subscriber per request: topics from `?topic=` (repeatable), replay from Last-Event-ID.
  app.get(
    '/events',
    sse(hub, {
      authorize: (_c, { topics }) =>
        topics.some((topic) => topic.startsWith(PRIVATE))
          ? { status: 403, reason: `Forbidden: ${PRIVATE} topics are served on /events-private` }
          : true,
    }),
  )
  // Any topic, `private:` ones included, for `Authorization: Bearer <eventsToken>` (401 without, 403 wrong).
  app.get(
    '/events-private',
    sse(hub, { authorize: (c) => checkBearer(c.req.header('authorization'), secrets.eventsToken) }),
  )
  // Content-Type JSON (415), no foreign Origin (403), the publish token (401/403): before the body is read.
  const guard = createPublishGuard({ token: secrets.publishToken, allowedOrigins: secrets.allowedOrigins })
  app.post(
    '/publish',
    async (c, next) => {
      const refused = guard({
        contentType: c.req.header('content-type'),
        origin: c.req.header('origin'),
        host: new URL(c.req.url).host,
        authorization: c.req.header('authorization'),
      })
      if (refused) return c.json(refused.body, refused.status as ContentfulStatusCode)
      await next()
    },
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json({ error: 'body is larger than 64 KiB' }, 413),
    }),
    async (c) => {
      let body: unknown
      try {
        body = JSON.parse(await c.req.text())
      } catch (error) {
        return c.json({ error: `body is not valid JSON: ${(error as Error).message}` }, 400)
      }
      // Checks the fields, publishes, and says what to answer: 200 { id }, 400 { error } or 503.
      const { status, body: answer, headers } = await publishFromBody(hub, body)
      return c.json(answer, status as ContentfulStatusCode, headers)
    },
  )
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
 * Starts the app on @hono/node-server, which hands the adapter the raw Node response (the fast path).
 * Tokens come from the options, else from `PUBLISH_TOKEN` / `EVENTS_TOKEN` (see `resolveSecrets`:
 * required in production).
 */
export async function start({
  port = 0,
  hub,
  http2: h2c = false,
  ...given
}: StartOptions = {}): Promise<RunningApp> {
  const secrets = resolveSecrets(given)
  hub ??= createHub()
  const server = createAdaptorServer({
    fetch: buildApp(hub, secrets).fetch,
    ...(h2c
      ? { createServer: http2.createServer }
      : {
          // A client gets 10 s to send its headers and 30 s for its whole request (a publish body is at
          // most 64 KiB), checked every second: Node's 60 s / 300 s let slow senders hold sockets for
          // minutes. An event stream is a GET, complete with its headers, so it is not affected.
          serverOptions: {
            headersTimeout: 10_000,
            requestTimeout: 30_000,
            connectionsCheckingInterval: 1000,
          },
        }),
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
