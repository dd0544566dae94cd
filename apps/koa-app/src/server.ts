// Start/stop plumbing shared by main.ts and the tests: node:http (or h2c on node:http2) around buildApp().
import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttp2Server, type Http2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'
import type { CloseOptions, Hub } from '@herald/sse-core'
import { buildApp } from './app.js'
import { createAppHub } from './hub.js'
import { resolveSecrets, type Secrets } from './tokens.js'

export interface StartOptions extends Partial<Secrets> {
  /** Port to listen on; 0 picks a free one. */
  port?: number
  hub?: Hub
  /** Serve cleartext HTTP/2 (h2c) instead of HTTP/1.1. Browsers need HTTP/1.1 or TLS for HTTP/2. */
  http2?: boolean
}

export interface RunningApp {
  url: string
  hub: Hub
  /** Ends every stream (after `options`, e.g. a `retryMs` hint) and then the server. */
  close(options?: CloseOptions): Promise<void>
}

/**
 * Builds the app around `hub` and listens on `port`. Tokens come from the options, else from
 * `PUBLISH_TOKEN` / `EVENTS_TOKEN` (see `resolveSecrets`: required in production).
 */
export async function start({
  port = 0,
  hub,
  http2 = false,
  ...given
}: StartOptions = {}): Promise<RunningApp> {
  const secrets = resolveSecrets(given)
  hub ??= createAppHub()
  const callback = buildApp(hub, secrets).callback()
  const server = http2
    ? createHttp2Server(callback)
    : createHttpServer(
        {
          // A client gets 10 s to send its headers and 30 s for its whole request (a publish body is at
          // most 64 KiB), checked every second: Node's 60 s / 300 s let slow senders hold sockets for
          // minutes. An event stream is a GET, complete with its headers, so it is not affected.
          headersTimeout: 10_000,
          requestTimeout: 30_000,
          connectionsCheckingInterval: 1000,
        },
        callback,
      )
  // HTTP/2 sessions outlive their streams; track them so close() does not wait on idle ones.
  const sessions = new Set<Http2Session>()
  server.on('session', (session: Http2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    hub,
    async close(options) {
      // Streams never end on their own: end them through the hub, then drop idle connections.
      if (!hub.closed) await hub.close(options)
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        if ('closeAllConnections' in server) server.closeAllConnections()
        for (const session of sessions) session.close()
      })
    },
  }
}
