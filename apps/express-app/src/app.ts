import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  type CloseOptions,
  checkBearer,
  createHub,
  createPublishGuard,
  type Hub,
  publishFromBody,
} from '@herald/sse-core'
import { sse } from '@herald/sse-express'
import compression from 'compression'
import express, { type ErrorRequestHandler, type Express } from 'express'
import { PAGE } from './page.js'
import { resolveSecrets, type Secrets } from './tokens.js'

/** Topics under this prefix are served on `/events-private` only. */
const PRIVATE = 'private:'

/**
 * The sample app: `GET /` (demo page), `GET /events?topic=T` (SSE; repeat `topic` for several; `private:`
 * topics refused), `GET /events-private?topic=T` (any topic, `Authorization: Bearer <eventsToken>`) and
 * `POST /publish` (JSON `{ topic, event?, data }` → `{ id }`, `Authorization: Bearer <publishToken>`).
 */
export function buildApp(hub: Hub, secrets: Secrets): Express {
  const app = express()
  // Nobody needs to know the framework; every answer says its Content-Type is the truth.
  app.disable('x-powered-by')
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    next()
  })
  // Compression in front of everything, on purpose: the SSE stream must get through it unharmed.
  app.use(compression())

  app.get('/', (_req, res) => {
    res.type('html').send(PAGE)
  })

  // Topics come from the `topic` query parameters; Last-Event-ID (header or `lastEventId` query) replays.
  app.get(
    '/events',
    sse(hub, {
      authorize: (_req, { topics }) =>
        topics.some((topic) => topic.startsWith(PRIVATE))
          ? { status: 403, reason: `Forbidden: ${PRIVATE} topics are served on /events-private` }
          : true,
    }),
  )
  // Any topic, `private:` ones included, for `Authorization: Bearer <eventsToken>` (401 without, 403 wrong).
  app.get(
    '/events-private',
    sse(hub, { authorize: (req) => checkBearer(req.get('authorization'), secrets.eventsToken) }),
  )

  // Content-Type JSON (415), no foreign Origin (403), the publish token (401/403): before the body is read.
  const guard = createPublishGuard({ token: secrets.publishToken, allowedOrigins: secrets.allowedOrigins })
  app.post(
    '/publish',
    (req, res, next) => {
      const refused = guard({
        contentType: req.get('content-type'),
        origin: req.get('origin'),
        host: req.get('host'),
        authorization: req.get('authorization'),
      })
      if (refused) res.status(refused.status).json(refused.body)
      else next()
    },
    // strict: false lets any JSON through, so a non-object gets publishFromBody's reason, not "invalid JSON".
    express.json({ strict: false, limit: '64kb' }),
    async (req, res) => {
      const { status, body, headers } = await publishFromBody(hub, req.body)
      res
        .status(status)
        .set(headers ?? {})
        .json(body)
    },
  )

  // Body parser errors (bad JSON, too large) carry a 4xx status: answer with it and a reason.
  const onError: ErrorRequestHandler = (err, _req, res, next) => {
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 0
    if (status === 0 || res.headersSent) return next(err)
    const reason =
      err.type === 'entity.parse.failed'
        ? `body is not valid JSON: ${err.message}`
        : err.type === 'entity.too.large'
          ? 'body is larger than 64 KiB'
          : err.message
    res.status(status).json({ error: reason })
  }
  app.use(onError)
  return app
}

export interface StartOptions extends Partial<Secrets> {
  /** Port to listen on; 0 picks a free one. */
  port?: number
  hub?: Hub
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
export async function start({ port = 0, hub, ...given }: StartOptions = {}): Promise<RunningApp> {
  const secrets = resolveSecrets(given)
  hub ??= createHub()
  const server = createServer(
    {
      // A client gets 10 s to send its headers and 30 s for its whole request (a publish body is at most
      // 64 KiB), checked every second: Node's 60 s / 300 s let slow senders hold sockets open for minutes.
      // An event stream is a GET whose request is complete with its headers, so it is not affected.
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      connectionsCheckingInterval: 1000,
    },
    buildApp(hub, secrets),
  )
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
      // Streams never end on their own: end them through the hub, then drop keep-alive connections.
      if (!hub.closed) await hub.close(options)
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}
