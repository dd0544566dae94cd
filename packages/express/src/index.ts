import { HeraldError, type Hub, type RequestInfo, type StreamOptions } from '@herald/sse-core'
import { lastEventIdHeader, serveNode } from '@herald/sse-core/node'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

/**
 * Raised (through `next(err)`) when the handler receives an HTTP/2 request. Express replaces the request and
 * response prototypes with its HTTP/1 ones, which breaks `node:http2`'s compatibility objects, so Express
 * cannot serve HTTP/2. Carries `status` 505 so Express-style error handlers answer with it.
 */
export class HeraldUnsupportedProtocolError extends HeraldError {
  /** HTTP status for error handlers that read `err.status`: 505 HTTP Version Not Supported. */
  readonly status = 505
  constructor(httpVersion: string) {
    super(
      'ERR_HERALD_HTTP2_UNSUPPORTED',
      `@herald/sse-express received an HTTP/${httpVersion} request, but Express does not run on node:http2. ` +
        'Serve the Express app with node:http (HTTP/1.1) and terminate HTTP/2 in a proxy, ' +
        'or use @herald/sse-koa, @herald/sse-hono or @herald/sse-h3, which support HTTP/2.',
    )
  }
}

/**
 * An Express (4 or 5) handler that streams a hub's events to the client as Server-Sent Events.
 *
 * It admits the request (authorization, limits, topics), answers a refusal with 400/401/403/429/503 before any
 * stream starts, and otherwise writes the SSE headers at once and subscribes the client through the core
 * Node writer, which flushes after every frame so `compression()` in front of it cannot hold events back.
 * The subscriber is released when the client goes away. Unexpected errors (for example a throwing `topics`
 * callback) go to `next(err)`.
 *
 * @example
 * const hub = createHub()
 * app.get('/events', sse(hub, { topics: (req) => [`user:${req.user.id}`] }))
 */
export function sse(hub: Hub, options: StreamOptions<Request> = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    // Under node:http2 Express never gets this far on its own; a host that calls this handler with HTTP/2
    // compat objects gets a typed error instead of a half-working stream.
    if (req.httpVersionMajor >= 2) {
      next(new HeraldUnsupportedProtocolError(req.httpVersion))
      return
    }
    const info: RequestInfo = {
      // The raw target: the core parses it and answers 400 to one it cannot (an absolute URL with a bad port).
      url: req.originalUrl ?? req.url,
      // From the raw headers: `req.get` would make Node build `req.headers` and keep it for the stream's life.
      lastEventId: lastEventIdHeader(req),
      // `req.ip` honours the app's `trust proxy` setting.
      remoteAddress: req.ip ?? req.socket.remoteAddress,
    }
    serveNode(hub, options, req, info, res).catch(next)
  }
}
