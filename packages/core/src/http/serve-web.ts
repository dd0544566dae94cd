import { encodeComment } from '../protocol/encode.js'
import { createWebSink, type WebSink } from '../sink/web.js'
import type { Hub, RequestInfo, StreamOptions } from '../types.js'
import { serveStream } from './serve-stream.js'

const OPENING = encodeComment('ok')

/**
 * Serves one event stream as a web `Response` (Hono, h3, any Fetch-style server): admission, then a
 * web sink subscribed to the hub. A refusal is a plain-text `Response` with its status, `Retry-After`
 * for limits, and the headers of `options.headers` (CORS). Aborting `init.signal` (the client went away)
 * releases the subscriber at once. With `info.method` `HEAD`, the answer is the status and headers a GET
 * would get, with no body and no subscription.
 */
export function serveWeb<Req>(
  hub: Hub,
  options: StreamOptions<Req>,
  req: Req,
  info: RequestInfo,
  init: { signal?: AbortSignal } = {},
): Promise<Response> {
  let stream: ReadableStream<Uint8Array> | undefined
  let headers: Record<string, string> = {}
  return serveStream(hub, options, req, info, info.method, {
    refuse: (status, refusalHeaders, body) => new Response(body, { status, headers: refusalHeaders }),
    head: (h) => new Response(null, { status: 200, headers: h }),
    open(h) {
      headers = h
      const web = createWebSink()
      stream = web.stream
      return web.sink
    },
    opened(sink) {
      const web = sink as WebSink
      // Some servers (srvx) send headers only with the first chunk: give them one now.
      if (web.written === 0) web.write(OPENING)
      const { signal } = init
      if (signal) {
        if (signal.aborted) web.abort()
        else signal.addEventListener('abort', () => web.abort(), { once: true })
      }
      return new Response(stream!, { status: 200, headers })
    },
  })
}
