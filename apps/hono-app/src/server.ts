// Start/stop plumbing shared by main.ts and the tests: @hono/node-server (HTTP/1.1 or h2c) around buildApp().
import { once } from 'node:events'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import type { CloseOptions, Hub } from '@herald/sse-core'
import { createAdaptorServer } from '@hono/node-server'
import { buildApp } from './app.js'
import { createAppHub } from './hub.js'
import { resolveSecrets, type Secrets } from './tokens.js'

export interface StartOptions extends Partial<Secrets> {
  /** Port to listen on; 0 picks a free one. */
  port?: number
  hub?: Hub
  /** Serve HTTP/2 over cleartext (h2c) instead of HTTP/1.1. */
  http2?: boolean
}

export interface RunningApp {
  url: string
  hub: Hub
  /** Ends every stream (after `options`, e.g. a `retryMs` hint so clients come back), then the server. */
  close(options?: CloseOptions): Promise<void>
}

/**
 * Starts the app on @hono/node-server, which hands the adapter the raw Node response (the fast path).
 * Tokens come from the options, else from `PUBLISH_TOKEN` / `EVENTS_TOKEN` (see `resolveSecrets`:
 * required in production).
 */
export async function start({
  port = 0,
  hub,
  http2: h2c = false,
  ...given
}: StartOptions = {}): Promise<RunningApp> {
  const secrets = resolveSecrets(given)
  hub ??= createAppHub()
  const server = createAdaptorServer({
    fetch: buildApp(hub, secrets).fetch,
    ...(h2c
      ? { createServer: http2.createServer }
      : {
          // A client gets 10 s to send its headers and 30 s for its whole request (a publish body is at
          // most 64 KiB), checked every second: Node's 60 s / 300 s let slow senders hold sockets for
          // minutes. An event stream is a GET, complete with its headers, so it is not affected.
          serverOptions: {
            headersTimeout: 10_000,
            requestTimeout: 30_000,
            connectionsCheckingInterval: 1000,
          },
        }),
  })
  server.listen(port)
  await once(server, 'listening')
  // HTTP/2 sessions outlive their streams; track them so close() does not wait on idle ones.
  const sessions = new Set<http2.ServerHttp2Session>()
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    hub,
    async close(options) {
      // Streams never end on their own: end them through the hub, then drop idle connections.
      if (!hub.closed) await hub.close(options)
      const closed = new Promise((resolve) => server.close(resolve))
      if ('closeAllConnections' in server) server.closeAllConnections()
      for (const session of sessions) session.close()
      await closed
    },
  }
}
