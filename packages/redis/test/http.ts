// Real HTTP for the hub-level tests: a node:http server around serveNode, and streams read as text.
import { createServer, type IncomingMessage, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Hub } from '@herald/sse-core'
import { serveNode } from '@herald/sse-core/node'

/** What a test closes at its end, last first. */
export type Cleanup = (() => Promise<unknown> | unknown)[]

/** Serves `hub` with serveNode on node:http at 127.0.0.1:0; the server is closed by `cleanup`. */
export function serve(hub: Hub, cleanup: Cleanup): Promise<string> {
  const server: Server = createServer((req, res) => {
    const info = {
      url: req.url ?? '/',
      lastEventId: req.headers['last-event-id'] as string | undefined,
      remoteAddress: req.socket.remoteAddress,
    }
    serveNode(hub, {}, req, info, res).catch(() => res.destroy())
  })
  cleanup.push(
    () => new Promise((r) => server.close(r)),
    () => server.closeAllConnections(),
  )
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  )
}

/** The raw text of a stream, as it arrives. */
export function stream(
  url: string,
  cleanup: Cleanup,
  lastEventId?: string,
): Promise<{ text: () => string; status: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: lastEventId ? { 'last-event-id': lastEventId } : {} })
    req.on('error', reject)
    req.on('response', (res: IncomingMessage) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
      })
      res.on('error', () => {})
      cleanup.push(() => res.destroy())
      resolve({ text: () => text, status: res.statusCode ?? 0 })
    })
    req.end()
  })
}

/** Waits until `check()` holds, running `step` (when given) before each check. */
export async function until(
  check: () => boolean,
  what: string,
  ms = 10_000,
  step?: () => Promise<unknown>,
): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (step) await step()
    if (check()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
