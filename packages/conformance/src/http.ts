// Raw HTTP/1.1 and h2c requests. The suite needs the bytes as they are on the wire (to see Content-Encoding
// and to decode it itself, chunk by chunk), which `fetch` hides, and Node's `fetch` cannot speak h2c.
import http from 'node:http'
import http2 from 'node:http2'
import { PassThrough, type Readable } from 'node:stream'
import zlib from 'node:zlib'

/** The HTTP version a check runs over: HTTP/1.1, or HTTP/2 over cleartext with prior knowledge (h2c). */
export type Protocol = 'http1' | 'h2'

/** What a response looked like before its body: status, headers (names lower-cased) and timing. */
export interface ResponseHead {
  status: number
  /** Header values joined with `, ` when repeated. HTTP/2 pseudo-headers are left out. */
  headers: Record<string, string>
  /**
   * Milliseconds from the request being fully handed to the connection (after connecting) to the
   * response headers: the server's share, not the client's connection set-up.
   */
  headersMs: number
}

/** A response whose body is still streaming. */
export interface RawResponse extends ResponseHead {
  /** The body as it came off the wire (still compressed when `content-encoding` is set). */
  wire: Readable
  /** Aborts the request: destroys the socket (HTTP/1.1) or cancels the stream (HTTP/2). */
  abort(): void
}

/** What to send. `body` is written in one piece and the request ended. */
export interface RequestSpec {
  method?: string
  headers?: Record<string, string>
  body?: string
  /** A connection of its own, so that aborting it is a real disconnect (default true for GET). */
  dedicated?: boolean
  /** Give up waiting for the response headers after this long. Default 10 000 ms. */
  timeoutMs?: number
}

/**
 * Sends requests over one protocol and keeps the connections it shares (for publishing) so that
 * `close()` can release them. Streams get a connection of their own.
 */
export class HttpClient {
  readonly protocol: Protocol
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
  private readonly sessions = new Map<string, http2.ClientHttp2Session>()
  private readonly open = new Set<() => void>()

  constructor(protocol: Protocol) {
    this.protocol = protocol
  }

  /** Sends one request and resolves once the response headers arrived. */
  request(url: URL, spec: RequestSpec = {}): Promise<RawResponse> {
    const method = spec.method ?? 'GET'
    const dedicated = spec.dedicated ?? method === 'GET'
    const timeoutMs = spec.timeoutMs ?? 10_000
    return this.protocol === 'h2'
      ? this.requestH2(url, method, spec, dedicated, timeoutMs)
      : this.requestH1(url, method, spec, dedicated, timeoutMs)
  }

  /** Sends a request and reads the whole (decoded) body as text. */
  async text(url: URL, spec: RequestSpec = {}): Promise<ResponseHead & { body: string }> {
    const res = await this.request(url, spec)
    const chunks: Buffer[] = []
    for await (const chunk of decodeBody(res.wire, res.headers['content-encoding']))
      chunks.push(chunk as Buffer)
    return {
      status: res.status,
      headers: res.headers,
      headersMs: res.headersMs,
      body: Buffer.concat(chunks).toString(),
    }
  }

  /** Aborts every stream still open and closes the shared connections. */
  close(): void {
    for (const abort of [...this.open]) abort()
    this.agent.destroy()
    for (const session of this.sessions.values()) session.destroy()
    this.sessions.clear()
  }

  private track(abort: () => void, done: Readable): () => void {
    this.open.add(abort)
    const untrack = () => this.open.delete(abort)
    done.once('close', untrack)
    return () => {
      untrack()
      abort()
    }
  }

  private requestH1(url: URL, method: string, spec: RequestSpec, dedicated: boolean, timeoutMs: number) {
    return new Promise<RawResponse>((resolve, reject) => {
      let started = performance.now()
      const req = http.request(url, {
        method,
        headers: {
          ...spec.headers,
          ...(spec.body === undefined ? {} : { 'content-length': Buffer.byteLength(spec.body) }),
        },
        agent: dedicated ? false : this.agent,
      })
      const timer = setTimeout(() => {
        req.destroy()
        reject(
          new Error(`no response headers within ${timeoutMs} ms (${method} ${url.pathname}${url.search})`),
        )
      }, timeoutMs)
      req.once('error', (error) => {
        clearTimeout(timer)
        reject(new Error(`${method} ${url.pathname}${url.search} failed: ${error.message}`))
      })
      req.once('response', (res) => {
        clearTimeout(timer)
        const headersMs = performance.now() - started
        // Errors after the head (a reset mid-stream) end the body; they are the server's way of hanging up.
        req.removeAllListeners('error')
        req.on('error', () => {})
        res.on('error', () => {})
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
        }
        const abort = this.track(() => {
          req.destroy()
          res.destroy()
        }, res)
        resolve({ status: res.statusCode ?? 0, headers, headersMs, wire: res, abort })
      })
      req.once('finish', () => {
        started = performance.now()
      })
      req.end(spec.body)
    })
  }

  private session(url: URL, dedicated: boolean): http2.ClientHttp2Session {
    if (dedicated) return http2.connect(url.origin)
    let session = this.sessions.get(url.origin)
    if (session === undefined || session.destroyed || session.closed) {
      session = http2.connect(url.origin)
      session.on('error', () => {})
      this.sessions.set(url.origin, session)
    }
    return session
  }

  private requestH2(url: URL, method: string, spec: RequestSpec, dedicated: boolean, timeoutMs: number) {
    return new Promise<RawResponse>((resolve, reject) => {
      let started = performance.now()
      const session = this.session(url, dedicated)
      const fail = (error: Error) => {
        clearTimeout(timer)
        if (dedicated) session.destroy()
        reject(new Error(`${method} ${url.pathname}${url.search} over h2c failed: ${error.message}`))
      }
      session.once('error', fail)
      const stream = session.request(
        { ':method': method, ':path': `${url.pathname}${url.search}`, ...spec.headers },
        { endStream: spec.body === undefined },
      )
      const timer = setTimeout(() => {
        session.removeListener('error', fail)
        stream.close(http2.constants.NGHTTP2_CANCEL)
        if (dedicated) session.destroy()
        reject(
          new Error(`no response headers within ${timeoutMs} ms (${method} ${url.pathname}${url.search})`),
        )
      }, timeoutMs)
      stream.once('error', fail)
      // 'ready': the stream has its id and its HEADERS frame is on the way.
      stream.once('ready', () => {
        started = performance.now()
      })
      stream.once('response', (raw) => {
        clearTimeout(timer)
        const headersMs = performance.now() - started
        session.removeListener('error', fail)
        // A shared session has its own no-op error listener already; adding one per request would leak.
        if (dedicated) session.on('error', () => {})
        stream.removeListener('error', fail)
        stream.on('error', () => {})
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(raw)) {
          if (name.startsWith(':') || value === undefined) continue
          headers[name] = Array.isArray(value) ? value.join(', ') : String(value)
        }
        if (dedicated) stream.once('close', () => session.close())
        const abort = this.track(() => {
          if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL)
          if (dedicated) session.destroy()
        }, stream)
        resolve({ status: Number(raw[':status']), headers, headersMs, wire: stream, abort })
      })
      if (spec.body !== undefined) stream.end(spec.body)
    })
  }
}

/** Undoes `Content-Encoding` chunk by chunk, so that whatever the server flushed can be read at once. */
export function decodeBody(wire: Readable, encoding: string | undefined): Readable {
  const coding = (encoding ?? 'identity').trim().toLowerCase()
  let decoder: Readable & NodeJS.WritableStream
  if (coding === 'identity' || coding === '') return wire
  if (coding === 'gzip' || coding === 'x-gzip') decoder = zlib.createGunzip()
  else if (coding === 'deflate') decoder = zlib.createInflate()
  else if (coding === 'br') decoder = zlib.createBrotliDecompress()
  else if (coding === 'zstd' && 'createZstdDecompress' in zlib) {
    decoder = (
      zlib as unknown as { createZstdDecompress(): Readable & NodeJS.WritableStream }
    ).createZstdDecompress()
  } else {
    const out = new PassThrough()
    queueMicrotask(() =>
      out.destroy(new Error(`cannot decode Content-Encoding: ${coding} on this Node version`)),
    )
    return out
  }
  wire.on('error', (error) => decoder.destroy(error))
  wire.on('close', () => {
    if (!wire.readableEnded) decoder.end()
  })
  wire.pipe(decoder)
  return decoder
}
