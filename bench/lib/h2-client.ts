// Many SSE streams over h2c (HTTP/2 without TLS, prior knowledge) from one process: a few connections,
// many streams multiplexed on each, events counted with the same byte scan as the raw HTTP/1.1 client.
// Only 127.0.0.1 is ever contacted.
import http2, { type ClientHttp2Session } from 'node:http2'
import { EventScanner } from './frame-counter.ts'
import { withTimeout } from './harness.ts'

/** Streams waiting for their response headers at once, over all connections. */
const OPEN_CONCURRENCY = 1000

/** The streams `connectH2` opened, and the first thing that went wrong with any of them. */
export class H2Streams {
  readonly sessions: ClientHttp2Session[] = []
  readonly scanners: EventScanner[] = []
  /** The first error, refusal, GOAWAY or early end on any connection or stream, until `close`. */
  error: Error | undefined
  private closing = false

  fail(error: Error): void {
    if (!this.closing) this.error ??= error
  }

  /** Throws the first failure, if there was one. */
  check(): void {
    if (this.error) throw this.error
  }

  close(): void {
    this.closing = true
    for (const session of this.sessions) session.destroy()
  }
}

/**
 * Opens `n` streams of `/events?topic=bench` on `port`, `perConnection` on each connection (round
 * robin), at most OPEN_CONCURRENCY waiting for headers at once; resolves when all have a 200. A stream the
 * server refuses (over its concurrency limit or its `maxSessionMemory`, both answered with RST_STREAM)
 * fails it, and so does any connection error or GOAWAY.
 */
export async function connectH2(
  port: number,
  n: number,
  perConnection: number,
  onEvents: (s: EventScanner, before: number) => void = () => {},
  latencies?: number[],
  ms = 120_000,
): Promise<H2Streams> {
  const fleet = new H2Streams()
  let failed!: (error: Error) => void
  const failure = new Promise<never>((_, reject) => {
    failed = (error) => {
      fleet.fail(error)
      reject(error)
    }
  })
  failure.catch(() => {})
  const connections = Math.ceil(n / perConnection)
  for (let i = 0; i < connections; i++) {
    // Until the server's SETTINGS arrive a client assumes 100 streams; these are the ones it sends.
    const session = http2.connect(`http://127.0.0.1:${port}`, { peerMaxConcurrentStreams: perConnection })
    session.on('error', (error) => failed(new Error(`h2 connection ${i}: ${error.message}`)))
    session.on('goaway', (code) => failed(new Error(`h2 connection ${i}: GOAWAY with code ${code}`)))
    fleet.sessions.push(session)
  }

  let opened = 0
  const opening = async () => {
    await Promise.all(fleet.sessions.map((s) => new Promise((resolve) => s.once('remoteSettings', resolve))))
    for (const s of fleet.sessions) {
      const max = s.remoteSettings.maxConcurrentStreams ?? Number.POSITIVE_INFINITY
      if (max < perConnection) throw new Error(`the server allows ${max} streams per connection`)
    }
    await new Promise<void>((resolve) => {
      let started = 0
      const startNext = () => {
        if (fleet.error || started >= n) return
        const i = started++
        const scanner = new EventScanner(latencies)
        const stream = fleet.sessions[i % connections]!.request({
          ':path': '/events?topic=bench',
          accept: 'text/event-stream',
        })
        stream.on('response', (headers) => {
          if (headers[':status'] !== 200) {
            failed(new Error(`h2 stream ${i}: status ${headers[':status']}`))
            return
          }
          opened++
          if (opened === n) resolve()
          else startNext()
        })
        stream.on('data', (chunk: Buffer) => scanner.feed(chunk, onEvents))
        // A refused stream (RST_STREAM with an error code) emits `error`; one the server ends, `end`.
        stream.on('error', (error) => failed(new Error(`h2 stream ${i}: ${error.message}`)))
        stream.on('end', () => failed(new Error(`h2 stream ${i}: ended by the server`)))
        fleet.scanners.push(scanner)
      }
      if (n === 0) resolve()
      for (let i = 0; i < Math.min(OPEN_CONCURRENCY, n); i++) startNext()
    })
  }
  try {
    await withTimeout(
      Promise.race([opening(), failure]),
      ms,
      `opening ${n} h2c streams on ${connections} connections (${opened} open)`,
    )
  } catch (error) {
    fleet.close()
    throw error
  }
  return fleet
}
