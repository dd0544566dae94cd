import { checkBearer, createPublishGuard, type Hub, publishFromBody } from '@herald/sse-core'
import { sse } from '@herald/sse-h3'
import compression from 'compression'
import { assertBodySize, fromNodeHandler, H3, HTTPError, html, type NodeMiddleware, raw, readBody } from 'h3'
import { PAGE } from './page.js'
import type { Secrets } from './tokens.js'

/** Topics under this prefix are served on `/events-private` only. */
const PRIVATE = 'private:'

/**
 * The sample app: `GET /` (demo page), `GET /events?topic=T` (SSE; repeat `topic` for several; `private:`
 * topics refused), `GET /events-private?topic=T` (any topic, `Authorization: Bearer <eventsToken>`) and
 * `POST /publish` (JSON `{ topic, event?, data }` → `{ id }`, `Authorization: Bearer <publishToken>`).
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
  // Topics come from the `topic` query parameters; Last-Event-ID (header or `lastEventId` query) replays.
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
      assertBodySize(event, 64 * 1024)
      body = await readBody(event)
    } catch (error) {
      // readBody's own errors (400 bad JSON, 413 over the limit) answer as JSON with their reason.
      if (!HTTPError.isError(error)) throw error
      event.res.status = error.status
      return { error: error.message }
    }
    // Checks the fields, publishes, and says what to answer: 200 { id }, 400 { error } or 503 with Retry-After.
    const { status, body: answer, headers: extra } = await publishFromBody(hub, body)
    event.res.status = status
    for (const [name, value] of Object.entries(extra ?? {})) event.res.headers.set(name, value)
    return answer
  })
  return app
}
