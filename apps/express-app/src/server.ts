// Start/stop plumbing shared by main.ts and the tests: a node:http server around buildApp().
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CloseOptions, Hub } from '@herald/sse-core'
import { buildApp } from './app.js'
import { createAppHub } from './hub.js'
import { resolveSecrets, type Secrets } from './tokens.js'

export interface StartOptions extends Partial<Secrets> {
  /** Port to listen on; 0 picks a free one. */
  port?: number
  hub?: Hub
}

export interface RunningApp {
  url: string
  hub: Hub
  /** Ends every stream (after `options`, e.g. a `retryMs` hint) and then the server. */
  close(options?: CloseOptions): Promise<void>
}

/**
 * Builds the app around `hub` and listens on `port` (Express does not run on `node:http2`). Tokens come
 * from the options, else from `PUBLISH_TOKEN` / `EVENTS_TOKEN` (see `resolveSecrets`: required in production).
 */
export async function start({ port = 0, hub, ...given }: StartOptions = {}): Promise<RunningApp> {
  const secrets = resolveSecrets(given)
  hub ??= createAppHub()
  const server = createServer(
    {
      // A client gets 10 s to send its headers and 30 s for its whole request (a publish body is at most
      // 64 KiB), checked every second: Node's 60 s / 300 s let slow senders hold sockets open for minutes.
      // An event stream is a GET whose request is complete with its headers, so it is not affected.
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      connectionsCheckingInterval: 1000,
    },
    buildApp(hub, secrets),
  )
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
      // Streams never end on their own: end them through the hub, then drop keep-alive connections.
      if (!hub.closed) await hub.close(options)
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}
