import type { Hub, RequestInfo, StreamOptions } from '@herald/sse-core'
import { lastEventIdHeader, serveNode } from '@herald/sse-core/node'
import type { Context, Middleware } from 'koa'

/** Socket errors that only say the client went away (a reset connection, a write after it left). */
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'])

function clientGone(ctx: Context, err: unknown): boolean {
  return ctx.res.headersSent && CLIENT_GONE.has((err as { code?: string } | null)?.code ?? '')
}

/** `ctx.onerror` while a stream is served: the app's own (from the context's prototype), bar a client leaving. */
function onStreamError(this: Context, err: Error): void {
  if (clientGone(this, err)) return
  ;(Object.getPrototypeOf(this) as Context).onerror.call(this, err)
}

/**
 * A Koa (2 or 3) middleware that streams a hub's events to the client as Server-Sent Events. Mount it on a
 * `@koa/router` route or with `app.use`; it ends the chain (it does not call `next`).
 *
 * It admits the request (authorization, limits, topics), answers a refusal with 400/401/403/429/503 before any
 * stream starts, and otherwise writes the SSE headers at once and subscribes the client through the core
 * Node writer on `ctx.res` (HTTP/1.1 and HTTP/2 alike). Koa itself never sends a body for this request, so
 * `koa-compress` cannot buffer it and a client disconnect never reaches the app's `'error'` handler.
 * Unexpected errors (for example a throwing `topics` callback) are thrown to Koa before anything is written.
 *
 * @example
 * const hub = createHub()
 * router.get('/events', sse(hub, { topics: (ctx) => [`user:${ctx.state.user.id}`] }))
 */
export function sse(hub: Hub, options: StreamOptions<Context> = {}): Middleware {
  return async (ctx: Context): Promise<void> => {
    // Koa reports a socket error on any response to the app's 'error' handler (through on-finished). Once a
    // stream is out, a client resetting its connection is how it leaves, not an error of the app. One
    // shared function (no closure per stream) unless an earlier middleware gave this context its own.
    if (Object.hasOwn(ctx, 'onerror')) {
      const report = ctx.onerror
      ctx.onerror = (err) => {
        if (!clientGone(ctx, err)) report.call(ctx, err)
      }
    } else ctx.onerror = onStreamError
    const info: RequestInfo = {
      // The raw target: the core parses it and answers 400 to one it cannot (an absolute URL with a bad port).
      url: ctx.originalUrl,
      // From the raw headers: `ctx.get` would make Node build `req.headers` and keep it for the stream's life.
      lastEventId: lastEventIdHeader(ctx.req) || undefined,
      // `ctx.ip` honours `app.proxy`.
      remoteAddress: ctx.ip || undefined,
    }
    await serveNode(hub, options, ctx, info, ctx.res)
    // The core writer owns `ctx.res` now (a stream or a refusal was written), so Koa must not respond. Piping
    // a body is what makes Koa 3 report ERR_STREAM_PREMATURE_CLOSE to the app on every disconnect, and with
    // no body and headers already sent, koa-compress leaves the response alone.
    ctx.respond = false
  }
}
