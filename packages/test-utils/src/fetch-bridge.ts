// Runs Web `Response`s over a real node:http socket, the way Web-standard runtimes and their Node
// bridges (@hono/node-server, srvx) do. Part of the private @herald/test-utils package.
import { createServer, type ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { listen, type TestServer } from './test-server.js'

/**
 * Copies a web `Response` onto a Node response: headers first (Node sends them with the first chunk), then
 * each chunk, waiting for `drain` when the socket is full; the client leaving cancels the body.
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

/**
 * Serves a fetch handler (`(request) => Response`) on node:http without exposing Node objects to the
 * framework. Like srvx, it sends headers only with the first body chunk, so a stream that waits for its
 * first event keeps the client waiting. The request's signal aborts when the client goes away.
 */
export function serveFetch(handler: (request: Request) => Response | Promise<Response>): Promise<TestServer> {
  const server = createServer(async (req, res) => {
    const abort = new AbortController()
    res.on('close', () => abort.abort())
    const headers = new Headers()
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!)
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers,
      signal: abort.signal,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
      // @ts-expect-error Node's fetch needs `duplex` for a streamed body; lib.dom does not know it yet.
      duplex: 'half',
    })
    let response: Response
    try {
      response = await handler(request)
    } catch {
      res.writeHead(500).end()
      return
    }
    await pumpResponse(response, res)
  })
  return listen(server)
}
