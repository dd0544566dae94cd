import { createServer as createHttpServer, type IncomingMessage } from 'node:http'
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { type CloseOptions, createHub, type Hub, publishFromBody } from '@herald/sse-core'
import { sse } from '@herald/sse-koa'
import Router from '@koa/router'
import Koa from 'koa'
import compress from 'koa-compress'
import { PAGE } from './page.js'

/** The token `/events-private` accepts (`Authorization: Bearer <token>`); set EVENTS_TOKEN in real use. */
const EVENTS_TOKEN = process.env.EVENTS_TOKEN ?? 'sample-token'

// 401 without credentials, 403 with wrong ones; either way before any stream starts.
const checkToken = (header: string | null | undefined) =>
  header ? header === `Bearer ${EVENTS_TOKEN}` : ({ status: 401 } as const)

const MAX_BODY_BYTES = 64 * 1024

/**
 * The sample app: `GET /` (demo page), `GET /events?topic=T` (SSE; repeat `topic` for several) and
 * `POST /publish` (JSON `{ topic, event?, data }` → `{ id }`).
 */
export function buildApp(hub: Hub): Koa {
  const app = new Koa()
  // Compression in front of everything, on purpose: the SSE stream must get through it unharmed.
  app.use(compress())

  const router = new Router()
  router.get('/', (ctx) => {
    ctx.type = 'html'
    ctx.body = PAGE
  })

  // Topics come from the `topic` query parameters; Last-Event-ID (header or `lastEventId` query) replays.
  router.get('/events', sse(hub))
  // Same stream behind a check: `Authorization: Bearer <EVENTS_TOKEN>`.
  router.get('/events-private', sse(hub, { authorize: (ctx) => checkToken(ctx.get('authorization')) }))

  router.post('/publish', async (ctx) => {
    // `ctx.is()` needs a Content-Length or chunked body, which HTTP/2 requests may not have: compare the type.
    if (ctx.request.type !== '' && ctx.request.type !== 'application/json') {
      ctx.status = 415
      ctx.body = { error: `Content-Type must be application/json, got ${ctx.get('content-type')}` }
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
    const outcome = publishFromBody(hub, body)
    ctx.status = outcome.status
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

export interface StartOptions {
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

/** Builds the app around `hub` and listens on `port`. */
export async function start({
  port = 0,
  hub = createHub(),
  http2 = false,
}: StartOptions = {}): Promise<RunningApp> {
  const callback = buildApp(hub).callback()
  const server = http2 ? createHttp2Server(callback) : createHttpServer(callback)
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
