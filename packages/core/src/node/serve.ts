import { serveStream } from '../http/serve-stream.js'
import type { Hub, RequestInfo, StreamOptions, Subscription } from '../types.js'
import { createNodeSink, type NodeResponse, writeStreamHead } from './sink.js'

/**
 * Serves one event stream on a Node response (Express `res`, Koa `ctx.res` with `ctx.respond = false`,
 * `c.env.outgoing` on @hono/node-server, `event.runtime.node.res` on srvx; HTTP/1.1 or HTTP/2).
 * A refusal writes its status, headers (`options.headers`, e.g. CORS, and `Retry-After` for limits) and
 * plain-text body, ends the response and resolves undefined. A `HEAD` request gets the status and headers
 * a GET would get, no body and no subscription (resolves undefined). Otherwise resolves the subscription;
 * it ends when the client leaves.
 */
export function serveNode<Req>(
  hub: Hub,
  options: StreamOptions<Req>,
  req: Req,
  info: RequestInfo,
  res: NodeResponse,
): Promise<Subscription | undefined> {
  const method = info.method ?? (res as { req?: { method?: string } }).req?.method
  return serveStream<Req, Subscription | undefined>(hub, options, req, info, method, {
    refuse(status, headers, body) {
      res.statusCode = status
      for (const name in headers) res.setHeader(name, headers[name]!)
      res.end(body)
      return undefined
    },
    head(headers) {
      writeStreamHead(res, headers)
      res.end()
      return undefined
    },
    open(headers) {
      writeStreamHead(res, headers)
      return createNodeSink(res)
    },
    opened: (_sink, subscription) => subscription,
  })
}
