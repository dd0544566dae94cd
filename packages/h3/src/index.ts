import type { Hub, RequestInfo, StreamOptions } from '@herald/sse-core'
import { serveWeb } from '@herald/sse-core'
import type { EventHandler, H3Event } from 'h3'

type NodeResponse = Parameters<typeof import('@herald/sse-core/node').serveNode>[4]

// The Node sink is loaded on first use only, so the adapter still runs on Deno, Bun and workers.
let nodeCore: Promise<typeof import('@herald/sse-core/node')> | undefined

// h3's marker for "a Node handler answered on the raw response" (what `fromNodeHandler` returns).
// It is a registry symbol, so every copy of h3 agrees on it.
const kHandled = Symbol.for('h3.handled')

/**
 * An h3 v2 event handler that streams the hub's events to the client as Server-Sent Events.
 *
 * On srvx's Node adapter (`h3/node`'s `serve` or `toNodeHandler`) it writes straight to the raw Node
 * response and settles only when that response closes, as h3's own Node handlers do; on any other
 * runtime it returns a `Response` whose body is a `ReadableStream`. Either way headers go out at once,
 * refusals (400, 401/403, 429/503 with `Retry-After`) are answered before any stream starts, and the
 * subscriber is released when the client goes away. The response carries `Cache-Control: no-transform`,
 * so Express `compression` mounted through `fromNodeHandler` leaves it alone.
 *
 * @example
 * app.get('/events', sse(hub, { topics: (event) => [event.url.searchParams.get('room') ?? 'lobby'] }))
 */
export function sse(hub: Hub, options: StreamOptions<H3Event> = {}): EventHandler {
  return async (event) => {
    const info: RequestInfo = {
      url: event.url,
      method: event.req.method,
      lastEventId: event.req.headers.get('last-event-id'),
      remoteAddress: event.req.ip,
    }
    // Headers set by earlier handlers (`handleCors`, say) would reach a returned Response through h3, but
    // the raw response never sees them.
    const headers = { ...Object.fromEntries(event.res.headers), ...options.headers }
    const res = event.runtime?.node?.res as NodeResponse | undefined
    if (res && !res.headersSent) {
      nodeCore ??= import('@herald/sse-core/node')
      const subscription = await (await nodeCore).serveNode(hub, { ...options, headers }, event, info, res)
      // srvx ends the raw response once the handler settles, so settle when the stream is over.
      if (subscription) await subscription.closed
      return kHandled
    }
    return serveWeb(hub, { ...options, headers }, event, info, { signal: event.req.signal })
  }
}
