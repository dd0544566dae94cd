import { createServer as createHttpServer, type IncomingMessage } from 'node:http'
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'
import {
  type CloseOptions,
  checkBearer,
  createHub,
  createPublishGuard,
  type Hub,
  publishFromBody,
} from '@herald/sse-core'
import { sse } from '@herald/sse-koa'
import Router from '@koa/router'
import Koa from 'koa'
import compress from 'koa-compress'
import { PAGE } from './page.js'
import { resolveSecrets, type Secrets } from './tokens.js'

/** Topics under this prefix are served on `/events-private` only. */
const PRIVATE = 'private:'

const MAX_BODY_BYTES = 64 * 1024

/**
 * The sample app: `GET /` (demo page), `GET /events?topic=T` (SSE; repeat `topic` for several; `private:`
 * topics refused), `GET /events-private?topic=T` (any topic, `Authorization: Bearer <eventsToken>`) and
 * `POST /publish` (JSON `{ topic, event?, data }` → `{ id }`, `Authorization: Bearer <publishToken>`).
 */
export function buildApp(hub: Hub, secrets: Secrets): Koa {
  const app = new Koa()
  // Every answer says its Content-Type is the truth.
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff')
    await next()
  })
  // Compression in front of everything, on purpose: the SSE stream must get through it unharmed.
  app.use(compress())

  const router = new Router()
  router.get('/', (ctx) => {
    ctx.type = 'html'
    ctx.body = PAGE
  })

  // Topics come from the `topic` query parameters; Last-Event-ID (header or `lastEventId` query) replays.
  router.get(
    '/events',
    sse(hub, {
      authorize: (_ctx, { topics }) =>
        topics.some((topic) => topic.startsWith(PRIVATE))
          ? { status: 403, reason: `Forbidden: ${PRIVATE} topics are served on /events-private` }
          : true,
    }),
  )
  // Any topic, `private:` ones included, for `Authorization: Bearer <eventsToken>` (401 without, 403 wrong).
  router.get(
    '/events-private',
    sse(hub, { authorize: (ctx) => checkBearer(ctx.get('authorization'), secrets.eventsToken) }),
  )

  // Content-Type JSON (415), no foreign Origin (403), the publish token (401/403): before the body is read.
  const guard = createPublishGuard({ token: secrets.publishToken, allowedOrigins: secrets.allowedOrigins })
  router.post('/publish', async (ctx) => {
    const refused = guard({
      contentType: ctx.get('content-type'),
      origin: ctx.get('origin'),
      // `ctx.host` reads `:authority` on HTTP/2.
      host: ctx.host,
      authorization: ctx.get('authorization'),
    })
    if (refused) {
      ctx.status = refused.status
      ctx.body = refused.body
      return
    }
    const text = await readBody(ctx.req)
    if (text === null) {
      ctx.status = 413
      ctx.body = { error: 'body is larger than 64 KiB' }
      return
    }
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch (err) {
      ctx.status = 400
      ctx.body = { error: `body is not valid JSON: ${(err as Error).message}` }
      return
    }
    const outcome = await publishFromBody(hub, body)
    ctx.status = outcome.status
    if (outcome.headers) ctx.set(outcome.headers)
    ctx.body = outcome.body
  })

  app.use(router.routes()).use(router.allowedMethods())
  return app
}

/** Reads the request body as UTF-8, or returns null past `MAX_BODY_BYTES`. */
async function readBody(req: IncomingMessage | Http2ServerRequest): Promise<string | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) return null
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

export interface StartOptions extends Partial<Secrets> {
  /** Port to listen on; 0 picks a free one. */
  port?: number
  hub?: Hub
  /** Serve cleartext HTTP/2 (h2c) instead of HTTP/1.1. Browsers need HTTP/1.1 or TLS for HTTP/2. */
  http2?: boolean
}

export interface RunningApp {
  url: string
  hub: Hub
  /** Ends every stream (after `options`, e.g. a `retryMs` hint) and then the server. */
  close(options?: CloseOptions): Promise<void>
}

/**
 * Builds the app around `hub` and listens on `port`. Tokens come from the options, else from
 * `PUBLISH_TOKEN` / `EVENTS_TOKEN` (see `resolveSecrets`: required in production).
 */
export async function start({
  port = 0,
  hub,
  http2 = false,
  ...given
}: StartOptions = {}): Promise<RunningApp> {
  const secrets = resolveSecrets(given)
  hub ??= createHub()
  const callback = buildApp(hub, secrets).callback()
  const server = http2
    ? createHttp2Server(callback)
    : createHttpServer(
        {
          // A client gets 10 s to send its headers and 30 s for its whole request (a publish body is at
          // most 64 KiB), checked every second: Node's 60 s / 300 s let slow senders hold sockets for
          // minutes. An event stream is a GET, complete with its headers, so it is not affected.
          headersTimeout: 10_000,
          requestTimeout: 30_000,
          connectionsCheckingInterval: 1000,
        },
        callback,
      )
  // HTTP/2 sessions outlive their streams; track them so close() does not wait on idle ones.
  const sessions = new Set<Http2Session>()
  server.on('session', (session: Http2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const url = `http://localhost:${(server.address() as AddressInfo).port}`
  return {
    url,
    hub,
    async close(options) {
      // Streams never end on their own: end them through the hub, then drop idle connections.
      if (!hub.closed) await hub.close(options)
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        if ('closeAllConnections' in server) server.closeAllConnections()
        for (const session of sessions) session.close()
      })
    },
  }
}
