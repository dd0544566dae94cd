import type { Hub, RequestInfo, StreamOptions } from '@herald/sse-core'
import { serveWeb } from '@herald/sse-core'
import type { Context, Handler } from 'hono'

/** What @hono/node-server puts in `c.env`: the raw Node request and response. */
interface NodeServerBindings {
  incoming?: { socket?: { remoteAddress?: string }; rawHeaders?: readonly string[] }
  outgoing?: Parameters<typeof import('@herald/sse-core/node').serveNode>[4]
}

// The Node sink is loaded on first use only, so the adapter still runs on Workers, Deno and Bun.
let nodeCore: Promise<typeof import('@herald/sse-core/node')> | undefined

// @hono/node-server writes nothing for a response carrying this header: the handler already answered on
// the raw response (its RESPONSE_ALREADY_SENT convention). Its lighter global Response class has a shortcut
// for bodiless responses that skips the check; reading `body` turns that shortcut off for this response.
function alreadySent(): Response {
  const marker = new Response(null, { headers: { 'x-hono-already-sent': 'true' } })
  void marker.body
  return marker
}

/**
 * A Hono handler that streams the hub's events to the client as Server-Sent Events.
 *
 * On @hono/node-server it writes straight to the raw Node response (`c.env.outgoing`); on any other
 * runtime it returns a `Response` whose body is a `ReadableStream`. Either way headers go out at once,
 * refusals (400, 401/403, 429/503 with `Retry-After`) are answered before any stream starts, and the
 * subscriber is released when the client goes away. The response carries `Cache-Control: no-transform`,
 * so Hono's `compress()` leaves it alone whatever its `contentTypeFilter`.
 *
 * @example
 * app.get('/events', sse(hub, { topics: (c) => [c.req.query('room') ?? 'lobby'] }))
 */
export function sse(hub: Hub, options: StreamOptions<Context> = {}): Handler {
  return async (c) => {
    const env = c.env as NodeServerBindings | undefined
    // Headers set by earlier middleware (CORS, say) are kept: Hono drops them from a returned Response
    // unless something read `c.res`, and the raw response never sees them.
    const headers = { ...Object.fromEntries(c.res.headers), ...options.headers }
    const res = env?.outgoing
    const incoming = env?.incoming
    if (res && incoming && !res.headersSent) {
      nodeCore ??= import('@herald/sse-core/node')
      const node = await nodeCore
      const info: RequestInfo = {
        url: c.req.url,
        method: c.req.method,
        // From the raw request: `c.req.header` would make the request build a `Headers` kept for the
        // stream's life.
        lastEventId: node.lastEventIdHeader(incoming),
        remoteAddress: incoming.socket?.remoteAddress,
      }
      await node.serveNode(hub, { ...options, headers }, c, info, res)
      return alreadySent()
    }
    const info: RequestInfo = {
      url: c.req.url,
      method: c.req.method,
      lastEventId: c.req.header('last-event-id'),
      remoteAddress: incoming?.socket?.remoteAddress,
    }
    return serveWeb(hub, { ...options, headers }, c, info, { signal: c.req.raw.signal })
  }
}
