import { checkBearer, createPublishGuard, type Hub, publishFromBody } from '@herald/sse-core'
import { sse } from '@herald/sse-koa'
import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import Koa from 'koa'
import compress from 'koa-compress'
import { PAGE } from './page.js'
import type { Secrets } from './tokens.js'

/** Topics under this prefix are served on `/events-private` only. */
const PRIVATE = 'private:'

/**
 * The sample app: `GET /` (demo page), `GET /events?topic=T` (SSE; repeat `topic` for several; `private:`
 * topics refused), `GET /events-private?topic=T` (any topic, `Authorization: Bearer <eventsToken>`) and
 * `POST /publish` (JSON `{ topic, event?, data }` → `{ id }`, `Authorization: Bearer <publishToken>`).
 */
export function buildApp(hub: Hub, secrets: Secrets): Koa {
  const app = new Koa()
  app.use(async (ctx, next) => {
    // Every answer says its Content-Type is the truth.
    ctx.set('X-Content-Type-Options', 'nosniff')
    try {
      await next()
    } catch (error) {
      // Client errors (bad JSON, a body over the limit) answer as JSON with their reason.
      if (!(error instanceof Koa.HttpError) || !error.expose) throw error
      ctx.status = error.status
      ctx.body = { error: error.message }
    }
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
  router.post(
    '/publish',
    async (ctx, next) => {
      // `ctx.host` reads `:authority` on HTTP/2.
      const refused = guard({
        contentType: ctx.get('content-type'),
        origin: ctx.get('origin'),
        host: ctx.host,
        authorization: ctx.get('authorization'),
      })
      if (refused) {
        ctx.status = refused.status
        ctx.body = refused.body
        return
      }
      await next()
    },
    // jsonStrict: false lets any JSON through, so a non-object gets publishFromBody's reason.
    bodyParser({
      enableTypes: ['json'],
      jsonStrict: false,
      jsonLimit: '64kb',
      onError: (error, ctx) => {
        if ('status' in error && error.status === 413) ctx.throw(413, 'body is larger than 64 KiB')
        ctx.throw(400, `body is not valid JSON: ${error.message}`)
      },
    }),
    async (ctx) => {
      const { status, body, headers } = await publishFromBody(hub, ctx.request.body)
      ctx.status = status
      if (headers) ctx.set(headers)
      ctx.body = body
    },
  )

  app.use(router.routes()).use(router.allowedMethods())
  return app
}
