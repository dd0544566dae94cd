// A hub served over one of the core's sinks on a real node:http server, for the core's own tests.
// Part of the private @herald/test-utils package.
import type { IncomingMessage } from 'node:http'
import { type OpenOptions, openStream, type StreamClient } from '@herald/sse-conformance/helpers'
import type { Hub, HubOptions, StreamOptions } from '@herald/sse-core'
import { createHub } from '@herald/sse-core'
import { afterEach } from 'vitest'
import { startServer, type TestServer } from './test-server.js'
import { handler, type Transport } from './transports.js'

/**
 * Registers an `afterEach` that closes the streams opened through `open`, the hub and the server, so each
 * test starts clean. Call once per `describe`.
 */
export function useHubServer(transport: Transport) {
  let hub: Hub | undefined
  let server: TestServer | undefined
  const streams: StreamClient[] = []
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close()
    await hub?.close()
    await server?.close()
    hub = undefined
    server = undefined
  })
  return {
    /** Creates the hub and serves it; `onWrite` sees the byte length of every write to a response. */
    async serve(
      options: HubOptions,
      stream: StreamOptions<IncomingMessage> = {},
      onWrite?: (bytes: number) => void,
    ): Promise<Hub> {
      hub = createHub(options)
      server = await startServer(handler(transport, hub, stream, onWrite))
      return hub
    },
    /** The absolute URL of `path` (relative to the server's root), e.g. `?topic=t`. */
    url(path: string): URL {
      return new URL(path, server!.url)
    },
    /** Opens an event stream on `path` (relative to the server's root); closed after the test. */
    async open(path: string, options?: OpenOptions): Promise<StreamClient> {
      const s = await openStream(this.url(path), options)
      streams.push(s)
      return s
    },
  }
}
