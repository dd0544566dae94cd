import type { ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import { SinkEvents } from '../sink/listeners.js'
import type { Sink } from '../types.js'

/** A Node response as Express, Koa (`ctx.res`), @hono/node-server (`c.env.outgoing`) and srvx expose it. */
export type NodeResponse = ServerResponse | Http2ServerResponse

type Writable = {
  write(chunk: Uint8Array): boolean
  flush?: () => void
  flushHeaders?: () => void
  writeHead(status: number): unknown
  readonly writableLength: number
  destroy?: (error?: Error) => void
  stream?: { destroy(): void }
  headersSent: boolean
}

/**
 * The one place Herald writes to a Node response. Sets the given headers (keeping ones set earlier,
 * such as CORS), status 200, and sends the headers at once so the client sees the stream open before
 * the first event. Each write is followed by `res.flush()` when a compression middleware added it.
 * `write` returning false means full until `drain`; `close` (client gone) closes the sink.
 */
export function createNodeSink(res: NodeResponse, headers: Record<string, string>): Sink {
  const out = res as unknown as Writable
  const events = new SinkEvents()
  let closed = false
  if (!res.headersSent) {
    // A length would end the stream early; Connection/Transfer-Encoding are never set (HTTP/2 rejects them).
    res.removeHeader('content-length')
    for (const name in headers) res.setHeader(name, headers[name]!)
    res.statusCode = 200
    // Headers must leave now: compression decides on them at the first flush, and proxies and clients
    // wait for them before they report the stream open.
    if (typeof out.flushHeaders === 'function') out.flushHeaders()
    else out.writeHead(200)
  }
  const onClose = () => {
    closed = true
    events.close()
  }
  res.on('close', onClose)
  res.on('drain', () => events.drain())
  // The client may have left while the request was being authorized.
  if ((res as { destroyed?: boolean }).destroyed) closed = true

  return {
    get closed() {
      return closed
    },
    get pending() {
      return out.writableLength ?? 0
    },
    write(chunk) {
      if (closed) return false
      const ok = out.write(chunk)
      out.flush?.()
      return ok
    },
    onDrain: (l) => events.onDrain(l),
    onClose: (l) => events.onClose(l),
    end() {
      if (closed) return
      closed = true
      res.end()
      events.close()
    },
    abort() {
      closed = true
      if (typeof out.destroy === 'function') out.destroy()
      else out.stream?.destroy()
      events.close()
    },
  }
}
