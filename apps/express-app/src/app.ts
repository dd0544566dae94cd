import { checkBearer, createPublishGuard, type Hub, publishFromBody } from '@herald/sse-core'
import { sse } from '@herald/sse-express'
import compression from 'compression'
import express, { type ErrorRequestHandler, type Express } from 'express'
import { PAGE } from './page.js'
import type { Secrets } from './tokens.js'

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
    // strict: false lets any JSON through, so a non-object gets publishFromBody's reason.
    express.json({ strict: false, limit: '64kb' }),
    async (req, res) => {
      const { status, body, headers } = await publishFromBody(hub, req.body)
      res
        .status(status)
        .set(headers ?? {})
        .json(body)
    },
  )

  // Body parser errors (bad JSON 400, too large 413) carry their status: answer it as JSON with a reason.
  const onError: ErrorRequestHandler = (err, _req, res, next) => {
    if (res.headersSent || !(err?.status >= 400 && err.status < 500)) return next(err)
    const reason = err.type === 'entity.parse.failed' ? `body is not valid JSON: ${err.message}` : err.message
    res.status(err.status).json({ error: reason })
  }
  app.use(onError)
  return app
}
