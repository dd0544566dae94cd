// Test-only helpers shared by the adapter packages: a raw SSE client over node:http and node:http2 that
// records when headers and events arrive, a bridge that serves a fetch handler on node:http (so the Web
// sink path runs over a real socket), and a recorder for unhandled rejections and warnings.
// Not published (package.json `files` excludes test-utils).
import http, { type IncomingHttpHeaders } from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { createParser, type EventSourceMessage } from 'eventsource-parser'

/** An open SSE response as seen by a client that reads raw bytes. */
export interface StreamClient {
  status: number
  headers: IncomingHttpHeaders
  /** Milliseconds from sending the request to receiving the response headers. */
  headersAfterMs: number
  /** The body as text, as far as it arrived. */
  readonly text: string
  readonly events: EventSourceMessage[]
  readonly comments: string[]
  /** Resolves with the first `count` events, or rejects after `timeoutMs`. */
  waitForEvents(count: number, timeoutMs?: number): Promise<EventSourceMessage[]>
  /** Resolves when the server ends the body. */
  ended: Promise<void>
  /** Aborts the request from the client side (h1: destroys the socket; h2: cancels the stream). */
  close(): void
}

export interface OpenOptions {
  headers?: Record<string, string>
  /** Speak HTTP/2 over cleartext (h2c) instead of HTTP/1.1. */
  http2?: boolean
}

/** Opens `url` and resolves once response headers arrive. The body is parsed as it streams in. */
export function openStream(url: string, options: OpenOptions = {}): Promise<StreamClient> {
  const started = performance.now()
  const events: EventSourceMessage[] = []
  const comments: string[] = []
  const waiters = new Set<() => void>()
  const notify = () => {
    for (const w of waiters) w()
  }
  let text = ''
  const decoder = new TextDecoder()
  const parser = createParser({
    onEvent: (e) => {
      events.push(e)
      notify()
    },
    onComment: (c) => comments.push(c),
  })
  const onData = (chunk: Buffer) => {
    const s = decoder.decode(chunk, { stream: true })
    text += s
    parser.feed(s)
  }
  let endedResolve!: () => void
  const ended = new Promise<void>((r) => {
    endedResolve = r
  })
  const client = (status: number, headers: IncomingHttpHeaders, close: () => void): StreamClient => ({
    status,
    headers,
    headersAfterMs: performance.now() - started,
    get text() {
      return text
    },
    events,
    comments,
    ended,
    close,
    waitForEvents(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (events.length < count) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(events.slice(0, count))
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`expected ${count} events within ${timeoutMs} ms, got ${events.length}: ${text}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
  })

  const target = new URL(url)
  if (options.http2) {
    return new Promise((resolve, reject) => {
      const session = http2.connect(target.origin)
      session.on('error', reject)
      const req = session.request({ ':path': target.pathname + target.search, ...options.headers })
      req.on('error', () => {})
      req.on('response', (raw) => {
        const { ':status': status, ...headers } = raw
        req.on('data', onData)
        req.on('close', () => {
          endedResolve()
          session.close()
        })
        resolve(
          client(Number(status), headers as IncomingHttpHeaders, () => {
            req.close(http2.constants.NGHTTP2_CANCEL)
            session.close()
          }),
        )
      })
      req.end()
    })
  }
  return new Promise((resolve, reject) => {
    const req = http.get(target, { headers: options.headers, agent: false }, (res) => {
      res.on('data', onData)
      res.on('end', endedResolve)
      res.on('error', () => {})
      res.on('close', endedResolve)
      resolve(client(res.statusCode ?? 0, res.headers, () => req.destroy()))
    })
    req.on('error', reject)
  })
}

/** Polls `check` until it returns true; rejects after `timeoutMs`. Resolves with the elapsed time. */
export async function waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<number> {
  const started = performance.now()
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
  return performance.now() - started
}

/** A server listening on 127.0.0.1 with an ephemeral port. */
export interface TestServer {
  url: string
  close(): Promise<void>
}

/** Closes `server`, dropping open connections (streams never end by themselves). */
export function closeServer(server: http.Server | http2.Http2Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    if ('closeAllConnections' in server) server.closeAllConnections()
  })
}

/** Listens on an ephemeral port of 127.0.0.1 and returns the base URL (with a trailing slash). */
export async function listen(server: http.Server | http2.Http2Server): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const sessions = new Set<http2.ServerHttp2Session>()
  server.on('session', (s: http2.ServerHttp2Session) => {
    sessions.add(s)
    s.on('close', () => sessions.delete(s))
  })
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => {
      for (const s of sessions) s.destroy()
      return closeServer(server)
    },
  }
}

/**
 * Serves a fetch handler (`(request) => Response`) on node:http, the way a Web-standard runtime would,
 * without exposing Node objects to the framework. Like srvx, it sends headers only with the first body
 * chunk, so a stream that waits for its first event keeps the client waiting. The request's signal
 * aborts when the client goes away; then the body stream is cancelled.
 */
export function serveFetch(handler: (request: Request) => Response | Promise<Response>): Promise<TestServer> {
  const server = http.createServer(async (req, res) => {
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
    res.writeHead(response.status, Object.fromEntries(response.headers))
    if (!response.body) {
      res.end()
      return
    }
    const reader = response.body.getReader()
    res.on('close', () => reader.cancel().catch(() => {}))
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        if (!res.write(value)) await new Promise((r) => res.once('drain', r).once('close', r))
      }
      res.end()
    } catch {
      res.destroy()
    }
  })
  return listen(server)
}

/** Records unhandled rejections, uncaught process warnings and console errors until `stop()`. */
export function recordProcessTrouble(): { readonly problems: string[]; stop(): void } {
  const problems: string[] = []
  const onRejection = (reason: unknown) => problems.push(`unhandledRejection: ${String(reason)}`)
  const onWarning = (warning: Error) => problems.push(`warning: ${warning.name}: ${warning.message}`)
  const originalError = console.error
  const originalWarn = console.warn
  console.error = (...args: unknown[]) => {
    problems.push(`console.error: ${args.map(String).join(' ')}`)
    originalError(...args)
  }
  console.warn = (...args: unknown[]) => {
    problems.push(`console.warn: ${args.map(String).join(' ')}`)
    originalWarn(...args)
  }
  process.on('unhandledRejection', onRejection)
  process.on('warning', onWarning)
  return {
    problems,
    stop() {
      process.off('unhandledRejection', onRejection)
      process.off('warning', onWarning)
      console.error = originalError
      console.warn = originalWarn
    },
  }
}
