import type { IncomingMessage, ServerResponse } from 'node:http'
import { serveWeb } from '../http/serve-web.js'
import { serveNode } from '../node/serve.js'
import type { Hub, RequestInfo, StreamOptions } from '../types.js'

export type Transport = 'node' | 'web'
export const TRANSPORTS: Transport[] = ['node', 'web']

export function requestInfo(req: IncomingMessage): RequestInfo {
  const header = req.headers['last-event-id']
  return {
    url: new URL(req.url ?? '/', 'http://localhost'),
    lastEventId: Array.isArray(header) ? header[0] : header,
    remoteAddress: req.socket.remoteAddress,
    method: req.method,
  }
}

/**
 * Copies a web `Response` onto a Node response the way @hono/node-server and srvx do: headers first,
 * then each chunk, waiting for `drain` when the socket is full; the client leaving aborts `signal`.
 */
export async function pumpResponse(
  response: Response,
  res: ServerResponse,
  onWrite?: (bytes: number) => void,
): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers))
  if (!response.body) {
    res.end()
    return
  }
  const reader = response.body.getReader()
  res.on('close', () => {
    reader.cancel().catch(() => {})
  })
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      onWrite?.(value.length)
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done)
            res.off('close', done)
            resolve()
          }
          res.on('drain', done)
          res.on('close', done)
        })
      }
    }
    res.end()
  } catch {
    res.destroy()
  }
}

/** A node:http handler serving `hub` through the Node sink or through the web sink and a Response. */
export function handler(
  transport: Transport,
  hub: Hub,
  options: StreamOptions<IncomingMessage> = {},
  onWrite?: (bytes: number) => void,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  if (transport === 'node') {
    return async (req, res) => {
      if (onWrite) {
        // Instrumentation only: count the sink's writes to the real response.
        const write = res.write.bind(res) as (chunk: Uint8Array) => boolean
        res.write = ((chunk: Uint8Array) => {
          onWrite(chunk.length)
          return write(chunk)
        }) as typeof res.write
      }
      await serveNode(hub, options, req, requestInfo(req), res)
    }
  }
  return async (req, res) => {
    const abort = new AbortController()
    res.on('close', () => abort.abort())
    const response = await serveWeb(hub, options, req, requestInfo(req), { signal: abort.signal })
    await pumpResponse(response, res, onWrite)
  }
}
