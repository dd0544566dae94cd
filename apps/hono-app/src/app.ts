import { checkBearer, createPublishGuard, type Hub, publishFromBody } from '@herald/sse-core'
import { sse } from '@herald/sse-hono'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { compress } from 'hono/compress'
import { PAGE } from './page.js'
import type { Secrets } from './tokens.js'

/** Topics under this prefix are served on `/events-private` only. */
const PRIVATE = 'private:'

/**
 * The sample app: `GET /` (demo page), `GET /events?topic=T` (SSE; repeat `topic` for several; `private:`
 * topics refused), `GET /events-private?topic=T` (any topic, `Authorization: Bearer <eventsToken>`) and
 * `POST /publish` (JSON `{ topic, event?, data }` → `{ id }`, `Authorization: Bearer <publishToken>`).
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
  // Topics come from the `topic` query parameters; Last-Event-ID (header or `lastEventId` query) replays.
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
      if (refused) return c.json(refused.body, refused.status)
      await next()
    },
    bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.json({ error: 'body is larger than 64 KiB' }, 413) }),
    async (c) => {
      let body: unknown
      try {
        body = await c.req.json()
      } catch (error) {
        return c.json(
          { error: `body is not valid JSON: ${error instanceof Error ? error.message : error}` },
          400,
        )
      }
      // Checks the fields, publishes, and says what to answer: 200 { id }, 400 { error } or 503 with Retry-After.
      const { status, body: answer, headers } = await publishFromBody(hub, body)
      return c.json(answer, status, headers)
    },
  )
  return app
}
