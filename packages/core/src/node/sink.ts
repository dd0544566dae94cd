import { OutgoingMessage, type ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import { type FlushableSink, SinkEvents } from '../sink/listeners.js'
import type { Sink } from '../types.js'

/** A Node response as Express, Koa (`ctx.res`), @hono/node-server (`c.env.outgoing`) and srvx expose it. */
export type NodeResponse = ServerResponse | Http2ServerResponse

type Writable = {
  write(chunk: Uint8Array): boolean
  flush?: () => void
  flushHeaders?: () => void
  writeHead(status: number): unknown
  readonly writableLength: number
  destroy?: (error?: Error) => void
  stream?: { destroy(): void }
  headersSent: boolean
}

/**
 * Opens an event stream on a Node response: status 200 with `headers` (merged with ones set earlier,
 * such as CORS), no `Content-Length`, and the headers sent at once, so the client sees the stream open
 * before the first event. Does nothing if the headers were sent already.
 */
export function writeStreamHead(res: NodeResponse, headers: Record<string, string>): void {
  if (res.headersSent) return
  // A length would end the stream early; Connection/Transfer-Encoding are never set (HTTP/2 rejects them).
  res.removeHeader('content-length')
  // writeHead merges these with headers set earlier (CORS) and, unlike setHeader, keeps no copy.
  ;(res as ServerResponse).writeHead(200, headers)
  // Headers must leave now: compression decides on them at the first flush, and proxies and clients
  // wait for them before they report the stream open.
  ;(res as unknown as Writable).flushHeaders?.()
}

/**
 * The one place Herald writes events to a Node response (its head is `writeStreamHead`'s). Each write is
 * followed by `res.flush()` when a compression middleware added it (it must be in place when the sink is
 * made, as middleware does before the route runs). `write` returning false means full until `drain`;
 * `close` (client gone) closes the sink.
 */
export function createNodeSink(res: NodeResponse): Sink {
  return new NodeSink(res)
}

const SINK = Symbol('herald.sink')
/** On an HTTP/2 session: how many Herald streams hold its idle timeout off, and the timeout to give back. */
const HELD = Symbol('herald.heldTimeout')

/** What the sink touches of a socket (HTTP/1.1) or an HTTP/2 stream or session to hold a timeout off. */
interface Timed {
  timeout?: number
  destroyed?: boolean
  setTimeout(ms: number): unknown
}
type Session = Timed & { [HELD]?: { streams: number; timeout: number } }

/**
 * `compression` (Express, and h3 through `fromNodeHandler`) replaces `res.write` and adds `res.flush` on
 * the response itself. When the headers went out without a Content-Encoding it has stepped aside for good
 * (`no-transform`): its `write` only forwards to the `write` it replaced and its `flush` does nothing, yet
 * both cost calls on every event. Then the prototype's `write` (the one it wrapped) is used directly. Its
 * wrapper is recognised by its source, so any other `res.write` replacement keeps being called.
 */
function steppedAside(res: NodeResponse): Writable['write'] | undefined {
  if (!res.headersSent || res.getHeader('content-encoding') !== undefined) return undefined
  const own = res as unknown as { write?: unknown; flush?: unknown }
  if (!Object.hasOwn(res, 'write') || !Object.hasOwn(res, 'flush') || typeof own.write !== 'function')
    return undefined
  const source = Function.prototype.toString.call(own.write)
  if (
    !source.includes('stream.write(toBuffer(chunk, encoding))') ||
    !source.includes('_write.call(this, chunk, encoding)')
  )
    return undefined
  const write = (Object.getPrototypeOf(res) as Partial<Writable>).write
  return typeof write === 'function' ? write : undefined
}

/** Node's own `res.write`, as it was when this module loaded (a later patch of the prototype is seen). */
const nodeWrite = OutgoingMessage.prototype.write

/** The part of an HTTP/1.1 socket the raw write path uses. */
interface RawSocket {
  readonly writable: boolean
  readonly writableLength: number
  readonly writableNeedDrain: boolean
  write(chunk: Uint8Array | string, encoding?: 'latin1'): boolean
  cork(): void
  uncork(): void
  once(event: 'drain', listener: () => void): unknown
}

const CRLF = Buffer.from('\r\n', 'latin1')

/**
 * The socket to write chunk-framed events to directly, or undefined to write through the response.
 * Node's `res.write` frames each chunk in four socket writes, corks the socket and uncorks it on the
 * next tick: most of the server's own CPU per event at high fan-out. An event stream's response owns its
 * socket once the head is out, so when nothing would see the difference the sink frames each event once
 * (`size CRLF data CRLF`, shared by every stream that gets it) and hands it to the socket in one write.
 * That holds only when: the response is HTTP/1.1 with chunked encoding (not HTTP/2, HTTP/1.0 or HEAD);
 * it has its socket and nothing is buffered in it (the head left); and the `write` it would call is
 * Node's own, unwrapped (a stepped-aside `compression` is skipped, as above; any other wrapper, or a
 * patched prototype, keeps every write going through it). `res.end()` still writes the last chunk.
 */
function rawSocket(res: NodeResponse, write: unknown): RawSocket | undefined {
  const r = res as Partial<ServerResponse> & { chunkedEncoding?: boolean; _hasBody?: boolean }
  // A prototype patched after this module loaded is what `write` resolves to, so it fails this too.
  if (write !== nodeWrite) return undefined
  if (r.chunkedEncoding !== true || r._hasBody !== true || !r.headersSent || r.writableEnded) return undefined
  const socket = r.socket as unknown as RawSocket | null | undefined
  if (!socket || typeof socket.write !== 'function' || !socket.writable) return undefined
  // Nothing waits in the response's own buffer: its bytes are all in the socket's.
  if (r.writableLength !== socket.writableLength) return undefined
  return socket
}

// One event's chunk framing, shared by every stream it is written to in this task; then let go.
let framedFrom: Uint8Array | undefined
let framed: Buffer | undefined
let forgetScheduled = false
const forgetFramed = () => {
  framedFrom = undefined
  framed = undefined
  forgetScheduled = false
}
/** Chunks bigger than this (a backlog for one stream) are not copied to be framed: `write` frames around them. */
const MAX_FRAMED_COPY = 16 * 1024

/** `chunk` in HTTP/1.1 chunked framing, made once per chunk and task; undefined if too big to copy. */
function chunkFramed(chunk: Uint8Array): Buffer | undefined {
  if (chunk === framedFrom) return framed
  if (chunk.length > MAX_FRAMED_COPY) return undefined
  const size = chunk.length.toString(16)
  const out = Buffer.allocUnsafe(size.length + chunk.length + 4)
  let at = out.write(size, 0, 'latin1')
  out[at++] = 13
  out[at++] = 10
  out.set(chunk, at)
  at += chunk.length
  out[at++] = 13
  out[at] = 10
  framedFrom = chunk
  framed = out
  // The same bytes object is never framed from a stale copy in a later task, even if it was reused.
  if (!forgetScheduled) {
    forgetScheduled = true
    queueMicrotask(forgetFramed)
  }
  return out
}

function onResponseClose(this: { [SINK]?: NodeSink }): void {
  this[SINK]?.onPeerClose()
}

/** `NodeSink.flags` bits: one small integer instead of a field per boolean. */
const FLUSH_OUT = 1
const CLOSED = 2
const WAITING_FOR_DRAIN = 4

/** An HTTP/1.1 socket whose timeout a stream holds off, and the timeout to give back. */
class HeldSocket {
  constructor(
    readonly socket: Timed,
    readonly timeout: number,
  ) {}
}

// A class, not closures: one of these lives per open stream, so its size is the per-subscriber cost.
// Extends SinkEvents rather than holding one: one object per stream instead of two.
class NodeSink extends SinkEvents implements Sink, FlushableSink {
  private readonly res: NodeResponse
  /** FLUSH_OUT: call `res.flush` after each write (a compression middleware added it); CLOSED; WAITING_FOR_DRAIN. */
  private flags = 0
  /**
   * Where events go when not through `res.write`, fixed when the sink is made; one field for two cases,
   * told apart by `typeof`. An object: the socket events go to directly, chunk-framed (see `rawSocket`).
   * A function: the response's own `write` (from its prototype) when a compression middleware wrapped
   * `res.write` and `res.flush` but stepped aside for this stream (`no-transform`: no Content-Encoding
   * once the headers are out); its wrappers then only forward, so every event skips them.
   */
  private readonly via: RawSocket | ((this: Writable, chunk: Uint8Array) => boolean) | undefined
  /**
   * What holds an idle timeout off until the response closes: the HTTP/2 session (its count is on it),
   * or, rarely (Node's socket timeout is 0 unless set), the HTTP/1.1 socket with its timeout.
   */
  private timed: Session | HeldSocket | undefined = undefined

  constructor(res: NodeResponse) {
    super()
    this.res = res
    const out = res as unknown as Writable
    // The head went out before the sink was made (writeStreamHead): compression has decided by now.
    const directWrite = steppedAside(res)
    const flushOut = directWrite === undefined && typeof out.flush === 'function'
    if (flushOut) this.flags = FLUSH_OUT
    // Both may apply (a stepped-aside compression over Node's own `write`): then the socket wins.
    this.via = (flushOut ? undefined : rawSocket(res, directWrite ?? out.write)) ?? directWrite
    // One shared listener (no closure per stream): it finds its sink through the response.
    ;(res as unknown as { [SINK]?: NodeSink })[SINK] = this
    res.on('close', onResponseClose)
    // The client may have left while the request was being authorized.
    if ((res as { destroyed?: boolean }).destroyed) this.flags |= CLOSED
    else this.holdTimeouts()
  }

  /** Read once, by the subscriber the sink is given to: not worth a field per stream. */
  get highWaterMark(): number | undefined {
    const hwm = (this.res as { writableHighWaterMark?: unknown }).writableHighWaterMark
    return typeof hwm === 'number' ? hwm : undefined
  }

  /**
   * An event stream is idle between events by design, so the server's socket timeout (`server.timeout`,
   * `server.setTimeout(ms)`: it destroys the socket, or on HTTP/2 the whole session, after that long
   * without traffic) is held off while the stream is open, and given back when the response closes.
   */
  private holdTimeouts(): void {
    const stream = (this.res as { stream?: Timed & { session?: Session } }).stream
    if (stream) {
      // HTTP/2: the stream's own timeout dies with it; the session's is shared by its streams.
      if (stream.timeout) stream.setTimeout(0)
      const session = stream.session
      if (!session) return
      let held = session[HELD]
      if (!held) {
        held = { streams: 0, timeout: 0 }
        session[HELD] = held
      }
      if (held.streams++ === 0) {
        held.timeout = session.timeout ?? 0
        if (held.timeout) session.setTimeout(0)
      }
      this.timed = session
      return
    }
    const socket = (this.res as { socket?: Timed | null }).socket
    if (socket?.timeout) {
      this.timed = new HeldSocket(socket, socket.timeout)
      socket.setTimeout(0)
    }
  }

  private releaseTimeouts(): void {
    const timed = this.timed
    if (!timed) return
    this.timed = undefined
    if (timed instanceof HeldSocket) {
      const socket = timed.socket
      // Unless Node already armed its keep-alive timeout on the socket (it does when the response finishes).
      if (!socket.destroyed && socket.timeout === 0) socket.setTimeout(timed.timeout)
      return
    }
    const held = timed[HELD]
    if (held && --held.streams === 0 && held.timeout && !timed.destroyed) timed.setTimeout(held.timeout)
  }

  get closed(): boolean {
    return (this.flags & CLOSED) !== 0
  }

  get pending(): number {
    const via = this.via
    // On the raw path every byte is in the socket's buffer (the response's own stays empty, as
    // `rawSocket` checked): read it there. The response's getter is the same sum, but on a response
    // whose prototype a framework replaced (Express) it is a slow lookup, and the budget reads it for
    // every event that finds a queue.
    if (typeof via === 'object') return via.writableLength
    return (this.res as unknown as Writable).writableLength ?? 0
  }

  write(chunk: Uint8Array): boolean {
    const flags = this.flags
    if ((flags & CLOSED) !== 0) return false
    const via = this.via
    if (typeof via === 'object') {
      // The response's `close` follows a socket that stopped being writable; until then, nothing to do.
      if (!via.writable) return false
      // An empty chunk would read as the last one.
      if (chunk.length === 0) return !via.writableNeedDrain
      const frame = chunkFramed(chunk)
      let ok: boolean
      if (frame !== undefined) ok = via.write(frame)
      else {
        // A big backlog for this stream alone: framed around it, in one writev, without copying it.
        via.cork()
        via.write(chunk.length.toString(16) + '\r\n', 'latin1')
        via.write(chunk)
        ok = via.write(CRLF)
        via.uncork()
      }
      if (!ok) this.awaitDrain(via)
      return ok
    }
    const out = this.res as unknown as Writable
    const ok = via !== undefined ? via.call(out, chunk) : out.write(chunk)
    if ((flags & FLUSH_OUT) !== 0) out.flush!()
    if (!ok) this.awaitDrain(this.res)
    return ok
  }

  /** Listens for `drain` on what the last write went to, only while full: an idle stream carries none. */
  private awaitDrain(from: { once(event: 'drain', listener: () => void): unknown }): void {
    if ((this.flags & WAITING_FOR_DRAIN) !== 0) return
    this.flags |= WAITING_FOR_DRAIN
    from.once('drain', () => {
      this.flags &= ~WAITING_FOR_DRAIN
      this.fireDrain()
    })
  }

  end(): void {
    if ((this.flags & CLOSED) !== 0) return
    this.flags |= CLOSED
    this.res.end()
    this.fireClose()
  }

  abort(): void {
    this.flags |= CLOSED
    const out = this.res as unknown as Writable
    if (typeof out.destroy === 'function') out.destroy()
    else out.stream?.destroy()
    this.fireClose()
  }

  onFlushed(listener: () => void): void {
    const res = this.res as NodeResponse & { writableFinished?: boolean; destroyed?: boolean }
    if (res.writableFinished || res.destroyed) {
      listener()
      return
    }
    // `finish`: the last byte went to the socket (HTTP/1.1) or the HTTP/2 stream; `close`: torn down.
    let called = false
    const once = () => {
      if (called) return
      called = true
      res.off('finish', once)
      res.off('close', once)
      listener()
    }
    res.on('finish', once)
    res.on('close', once)
  }

  /** The response closed: the client went away, or the stream finished after `end()`. */
  onPeerClose(): void {
    this.flags |= CLOSED
    this.releaseTimeouts()
    this.fireClose()
  }
}
