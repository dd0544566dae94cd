import type { Hub, RequestInfo, StreamOptions, Subscription } from '@herald/sse-core'
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
    // Headers set by earlier handlers (`handleCors`, say) would reach a returned Response through h3, but
    // the raw response never sees them.
    const headers = { ...earlierHeaders(event), ...options.headers }
    const node = event.runtime?.node
    const res = node?.res as NodeResponse | undefined
    if (res && node?.req && !res.headersSent) {
      nodeCore ??= import('@herald/sse-core/node')
      const core = await nodeCore
      const info: RequestInfo = {
        // A string: parsing `event.url`'s query would leave its URLSearchParams on the event for the
        // stream's life.
        url: event.path,
        method: event.req.method,
        // From the raw Node request: `event.req.headers` would build a `Headers` kept as long.
        lastEventId: core.lastEventIdHeader(node.req),
        remoteAddress: event.req.ip,
      }
      // srvx ends the raw response once the handler settles, so settle when the stream is over (a promise
      // chain rather than an await here: an idle stream keeps no suspended handler frame).
      return core.serveNode(hub, { ...options, headers }, event, info, res).then(settleWhenClosed)
    }
    const info: RequestInfo = {
      url: event.url,
      method: event.req.method,
      lastEventId: event.req.headers.get('last-event-id'),
      remoteAddress: event.req.ip,
    }
    return serveWeb(hub, { ...options, headers }, event, info, { signal: event.req.signal })
  }
}

const handled = () => kHandled

function settleWhenClosed(subscription: Subscription | undefined): symbol | Promise<symbol> {
  return subscription ? subscription.closed.then(handled) : kHandled
}

// h3 makes `event.res` on first read, under this registry key. When no handler made it, no handler set a
// header, and reading it would make a response object and a `Headers` kept for the stream's life.
const kEventRes = Symbol.for('h3.internal.event.res')
const lazyRes = new WeakMap<object, boolean>()

/** The headers earlier handlers set on `event.res`, without making one where none was made. */
function earlierHeaders(event: H3Event): Record<string, string> | undefined {
  const proto = Object.getPrototypeOf(event) as object
  let lazy = lazyRes.get(proto)
  if (lazy === undefined) {
    // Checked once per event class, on a bare object: does reading `res` store it under that key?
    const probe = Object.create(proto) as Record<PropertyKey, unknown>
    try {
      void probe.res
      lazy = probe[kEventRes] !== undefined
    } catch {
      lazy = false
    }
    lazyRes.set(proto, lazy)
  }
  if (lazy && (event as unknown as Record<PropertyKey, unknown>)[kEventRes] === undefined) return undefined
  return Object.fromEntries(event.res.headers)
}
