// Real servers on an ephemeral port of 127.0.0.1 for tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Http2Server, ServerHttp2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'

/** A listening server; `close()` also drops open connections (streams never end by themselves). */
export interface TestServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:4711/`. */
  url: string
  /** The Node server itself (to set its timeouts, say). */
  server?: Server | Http2Server
  close(): Promise<void>
}

/** Listens on an ephemeral port of 127.0.0.1 (node:http or an h2c node:http2 server). */
export async function listen(server: Server | Http2Server): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const sessions = new Set<ServerHttp2Session>()
  server.on('session', (s: ServerHttp2Session) => {
    sessions.add(s)
    s.on('close', () => sessions.delete(s))
  })
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy()
        server.close(() => resolve())
        if ('closeAllConnections' in server) server.closeAllConnections()
      }),
  }
}

/** A node:http server running `handler`; a handler that rejects gets a 500 with the error as body. */
export function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): Promise<TestServer> {
  return listen(
    createServer((req, res) => {
      Promise.resolve(handler(req, res)).catch((error: unknown) => {
        if (!res.headersSent) res.statusCode = 500
        res.end(String(error))
      })
    }),
  )
}
