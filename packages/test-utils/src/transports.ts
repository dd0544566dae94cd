import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Hub, RequestInfo, StreamOptions } from '@herald/sse-core'
import { serveWeb } from '@herald/sse-core'
import { serveNode } from '@herald/sse-core/node'
import { pumpResponse } from './fetch-bridge.js'

// The core's two sinks as a test matrix: each case runs over the Node sink and over the web sink.
export type Transport = 'node' | 'web'
export const TRANSPORTS: Transport[] = ['node', 'web']

/** The request facts an adapter hands the core, read from a node:http request. */
export function requestInfo(req: IncomingMessage): RequestInfo {
  const header = req.headers['last-event-id']
  return {
    url: new URL(req.url ?? '/', 'http://localhost'),
    lastEventId: Array.isArray(header) ? header[0] : header,
    remoteAddress: req.socket.remoteAddress,
    method: req.method,
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
