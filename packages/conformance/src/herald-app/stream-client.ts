// A raw SSE client over node:http (HTTP/1.1) and node:http2 (h2c) that parses the body with an independent
// parser and records when the headers arrived. Public as `@herald/sse-conformance/helpers`.
import http, { type IncomingHttpHeaders } from 'node:http'
import http2 from 'node:http2'
import type { Readable } from 'node:stream'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { waitFor } from './wait.js'

/** An open SSE response as seen by a client that reads raw bytes. */
export interface StreamClient {
  status: number
  headers: IncomingHttpHeaders
  /** Milliseconds from sending the request to receiving the response headers. */
  headersAfterMs: number
  /** The body as text, as far as it arrived (only the last 64 KiB or more with `trimText`). */
  readonly text: string
  readonly events: EventSourceMessage[]
  readonly comments: string[]
  readonly retries: number[]
  /** Resolves when the server ends the body or the connection closes. */
  ended: Promise<void>
  readonly isEnded: boolean
  /** Resolves with all events so far once there are at least `count`, or rejects after `timeoutMs`. */
  waitForEvents(count: number, timeoutMs?: number): Promise<EventSourceMessage[]>
  /** Starts reading the body of a stream opened with `paused`. */
  resume(): void
  /** Aborts the request from the client side (h1: destroys the socket; h2: cancels the stream). */
  close(): void
}

/** How `openStream` opens a stream. */
export interface OpenOptions {
  /** Request headers; `accept: text/event-stream` is sent unless overridden. */
  headers?: Record<string, string>
  /** Speak HTTP/2 over cleartext (h2c) instead of HTTP/1.1. */
  http2?: boolean
  /** Do not read the body until `resume()`: the socket fills up like a stuck client's. */
  paused?: boolean
  /** Keep only the last 64 KiB of `text` once it passes 128 KiB (long runs). */
  trimText?: boolean
}

/** Opens `url` with a GET and resolves once response headers arrive. The body is parsed as it streams in. */
export function openStream(url: string | URL, options: OpenOptions = {}): Promise<StreamClient> {
  const started = performance.now()
  const headers = { accept: 'text/event-stream', ...options.headers }
  const events: EventSourceMessage[] = []
  const comments: string[] = []
  const retries: number[] = []
  let text = ''
  let isEnded = false
  const decoder = new TextDecoder()
  const parser = createParser({
    onEvent: (e) => events.push(e),
    onComment: (c) => comments.push(c),
    onRetry: (r) => retries.push(r),
  })
  const onData = (chunk: Buffer) => {
    const s = decoder.decode(chunk, { stream: true })
    text += s
    if (options.trimText && text.length > 131072) text = text.slice(-65536)
    parser.feed(s)
  }
  let endedResolve!: () => void
  const ended = new Promise<void>((r) => {
    endedResolve = () => {
      isEnded = true
      r()
    }
  })

  const client = (
    status: number,
    responseHeaders: IncomingHttpHeaders,
    body: Readable,
    close: () => void,
  ): StreamClient => {
    let reading = false
    const stream: StreamClient = {
      status,
      headers: responseHeaders,
      headersAfterMs: performance.now() - started,
      get text() {
        return text
      },
      events,
      comments,
      retries,
      ended,
      get isEnded() {
        return isEnded
      },
      async waitForEvents(count, timeoutMs) {
        const what = () => `${count} events, got ${events.length}: ${JSON.stringify(text.slice(-500))}`
        await waitFor(() => events.length >= count, what, timeoutMs)
        return events
      },
      resume() {
        if (reading) return
        reading = true
        body.on('data', onData)
        body.resume()
      },
      close,
    }
    if (options.paused) body.pause()
    else stream.resume()
    return stream
  }

  const target = new URL(url)
  if (options.http2) {
    return new Promise((resolve, reject) => {
      const session = http2.connect(target.origin)
      session.on('error', reject)
      const req = session.request({ ':path': target.pathname + target.search, ...headers })
      req.on('error', () => {})
      req.on('response', (raw) => {
        const { ':status': status, ...rest } = raw
        req.on('close', () => {
          endedResolve()
          session.close()
        })
        resolve(
          client(Number(status), rest as IncomingHttpHeaders, req, () => {
            req.close(http2.constants.NGHTTP2_CANCEL)
            session.close()
          }),
        )
      })
      req.end()
    })
  }
  return new Promise((resolve, reject) => {
    const req = http.get(target, { headers, agent: false }, (res) => {
      res.on('end', endedResolve)
      res.on('error', endedResolve)
      res.on('close', endedResolve)
      resolve(client(res.statusCode ?? 0, res.headers, res, () => req.destroy()))
    })
    req.on('error', reject)
  })
}
