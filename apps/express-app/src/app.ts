import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type CloseOptions, createHub, type Hub, publishFromBody } from '@herald/sse-core'
import { sse } from '@herald/sse-express'
import compression from 'compression'
import express, { type ErrorRequestHandler, type Express } from 'express'
import { PAGE } from './page.js'

/** The token `/events-private` accepts (`Authorization: Bearer <token>`); set EVENTS_TOKEN in real use. */
const EVENTS_TOKEN = process.env.EVENTS_TOKEN ?? 'sample-token'

// 401 without credentials, 403 with wrong ones; either way before any stream starts.
const checkToken = (header: string | null | undefined) =>
  header ? header === `Bearer ${EVENTS_TOKEN}` : ({ status: 401 } as const)

/**
 * The sample app: `GET /` (demo page), `GET /events?topic=T` (SSE; repeat `topic` for several) and
 * `POST /publish` (JSON `{ topic, event?, data }` → `{ id }`).
 */
export function buildApp(hub: Hub): Express {
  const app = express()
  // Compression in front of everything, on purpose: the SSE stream must get through it unharmed.
  app.use(compression())

  app.get('/', (_req, res) => {
    res.type('html').send(PAGE)
  })

  // Topics come from the `topic` query parameters; Last-Event-ID (header or `lastEventId` query) replays.
  app.get('/events', sse(hub))
  // Same stream behind a check: `Authorization: Bearer <EVENTS_TOKEN>`.
  app.get('/events-private', sse(hub, { authorize: (req) => checkToken(req.get('authorization')) }))

  app.post(
    '/publish',
    (req, res, next) => {
      const type = req.headers['content-type']
      if (type === undefined || req.is('application/json')) return next()
      res.status(415).json({ error: `Content-Type must be application/json, got ${type}` })
    },
    // strict: false lets any JSON through, so a non-object gets publishFromBody's reason, not "invalid JSON".
    express.json({ type: () => true, strict: false, limit: '64kb' }),
    (req, res) => {
      const { status, body } = publishFromBody(hub, req.body)
      res.status(status).json(body)
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

export interface StartOptions {
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

/** Builds the app around `hub` and listens on `port`. */
export async function start({ port = 0, hub = createHub() }: StartOptions = {}): Promise<RunningApp> {
  const server = createServer(buildApp(hub))
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
