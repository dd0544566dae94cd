// Cheap client-side accounting for many SSE streams over raw sockets: no SSE parser, just byte scans.
// Each event the bench servers send carries exactly one `id:` line (better-sse writes no space after the
// colon), and nothing else they send (retry hints, heartbeat comments, HTTP chunk sizes, the payload)
// contains `id:`, so counting that pattern counts events. The last id is read back from a short tail.
import net from 'node:net'

const ID = Buffer.from('id:')
const TAIL = 2048

export interface StreamOptions {
  /** Source address on 127.0.0.0/8 (to get past one address's ephemeral ports). */
  localAddress?: string
  /** Collects publish-to-receipt times (µs) read from each event's `t` field (costs a parse per event). */
  latencies?: number[]
  /** Never read after the headers: a consumer that stalls (the kernel buffers fill, then the server's). */
  stall?: boolean
}

/** Microseconds on the monotonic clock, the one the bench servers stamp events with. */
export const nowMicros = () => Number(process.hrtime.bigint()) / 1000

/**
 * Counts the events in a stream's body, read by read, and keeps its tail to check the last id. The
 * HTTP/1.1 client below feeds it from a raw socket, the h2c client (`h2-client.ts`) from an HTTP/2 stream.
 */
export class EventScanner {
  events = 0
  private carry: Buffer = Buffer.alloc(0)
  private tail: Buffer = Buffer.alloc(0)
  private text = ''

  /** `latencies`: see `StreamOptions`. */
  constructor(private readonly latencies?: number[]) {}

  /** Counts the events in `chunk`, the next bytes of the body; `onEvents` hears of any it held. */
  feed<S extends EventScanner>(this: S, chunk: Buffer, onEvents: (s: S, before: number) => void): void {
    const before = this.events
    this.scan(chunk)
    if (this.events !== before) onEvents(this, before)
  }

  private scan(chunk: Buffer): void {
    // A match may straddle two reads: look at the last 2 bytes of the previous read with this one.
    if (this.carry.length > 0) {
      const joint = Buffer.concat([this.carry, chunk.subarray(0, 2)])
      const at = joint.indexOf(ID)
      if (at !== -1 && at < this.carry.length && at + ID.length > this.carry.length) this.events++
    }
    let at = chunk.indexOf(ID)
    while (at !== -1) {
      this.events++
      at = chunk.indexOf(ID, at + ID.length)
    }
    this.carry = chunk.subarray(Math.max(0, chunk.length - 2))
    if (this.latencies) this.time(chunk)
    this.tail =
      chunk.length >= TAIL
        ? chunk.subarray(chunk.length - TAIL)
        : Buffer.concat([this.tail, chunk]).subarray(-TAIL)
  }

  /** Reads the publish time of every complete event in the text received so far. */
  private time(chunk: Buffer): void {
    const now = nowMicros()
    const text = this.text + chunk.toString('latin1')
    const end = text.lastIndexOf('\n\n')
    if (end === -1) {
      this.text = text
      return
    }
    this.text = text.slice(end + 2)
    let at = text.indexOf('"t":')
    while (at !== -1 && at < end) {
      this.latencies!.push(now - Number.parseInt(text.slice(at + 4, at + 24), 10))
      at = text.indexOf('"t":', at + 4)
    }
  }

  /** The sequence number of the last event received (from its payload's `seq`). */
  lastSeq(): number | undefined {
    const at = this.tail.lastIndexOf('"seq":')
    if (at === -1) return undefined
    return Number.parseInt(this.tail.subarray(at + 6, at + 24).toString(), 10)
  }

  /** The id of the last event received (text after the last `id:`, one leading space removed). */
  lastId(): string | undefined {
    const at = this.tail.lastIndexOf(ID)
    if (at === -1) return undefined
    const end = this.tail.indexOf(10, at)
    const value = this.tail.subarray(at + ID.length, end === -1 ? undefined : end).toString()
    return value.startsWith(' ') ? value.slice(1) : value
  }
}

/** One raw HTTP/1.1 SSE client: counts events and keeps the stream's tail to check the last id. */
export class CountingStream extends EventScanner {
  headersOk = false
  private head = ''
  readonly socket: net.Socket
  closedByServer = false

  constructor(
    port: number,
    path: string,
    onHeaders: (s: CountingStream) => void,
    onEvents: (s: CountingStream, before: number) => void,
    onError: (s: CountingStream, error: Error) => void,
    options: StreamOptions = {},
  ) {
    super(options.latencies)
    const to = {
      host: '127.0.0.1',
      port,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    }
    this.socket = net.connect(to, () => {
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`)
    })
    this.socket.on('error', (error) => onError(this, error))
    this.socket.on('end', () => {
      this.closedByServer = true
    })
    this.socket.on('data', (chunk: Buffer) => {
      if (!this.headersOk) {
        this.head += chunk.toString('latin1')
        const end = this.head.indexOf('\r\n\r\n')
        if (end === -1) return
        if (!this.head.startsWith('HTTP/1.1 200')) {
          onError(this, new Error(`bad response: ${this.head.slice(0, 80)}`))
          return
        }
        this.headersOk = true
        chunk = Buffer.from(this.head.slice(end + 4), 'latin1')
        this.head = ''
        onHeaders(this)
        if (options.stall) this.socket.pause()
      }
      this.feed(chunk, onEvents)
    })
  }
}
