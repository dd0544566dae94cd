import type { Sink } from '../types.js'
import { type FlushableSink, SinkEvents, type SinkOwner } from './listeners.js'

/** Options of `createWebSink`. */
export interface WebSinkOptions {
  /**
   * Bytes the stream may hold before `write` reports full (the sink's share of the subscriber budget).
   * Default 16 KiB, like a Node socket's.
   */
  highWaterMark?: number
}

/** A sink whose bytes come out of `stream`; `written` counts every byte enqueued so far. */
export interface WebSink extends Sink, FlushableSink {
  readonly written: number
  abort(): void
  /** @internal The hub's fast path: the subscriber is called directly instead of through listeners. */
  attach(owner: SinkOwner): void
  /** @internal `pending` stays below this while `write` returns true. */
  readonly highWaterMark: number
}

/**
 * A sink that produces a `ReadableStream<Uint8Array>`, for `Response` bodies (Hono, h3, any runtime).
 * Backpressure is the stream's own: a byte-length queuing strategy, `desiredSize` says when it is full,
 * and `pull` (the reader took bytes) is the drain signal. A cancelled stream (client gone) closes the sink.
 */
export function createWebSink(options: WebSinkOptions = {}): {
  sink: WebSink
  stream: ReadableStream<Uint8Array>
} {
  const sink = new WebStreamSink(options.highWaterMark ?? 16 * 1024)
  // The strategy is read once when the stream is built; the size function is shared by every stream.
  const stream = new ReadableStream<Uint8Array>(new WebSinkSource(sink), {
    highWaterMark: sink.highWaterMark,
    size: byteLength,
  })
  return { sink, stream }
}

const byteLength = (chunk: Uint8Array): number => chunk.byteLength

/**
 * The stream's underlying source. Methods live on prototypes rather than in per-stream closures: an idle
 * stream then holds two small objects instead of a dozen functions.
 */
class WebSinkSource implements UnderlyingDefaultSource<Uint8Array> {
  constructor(private readonly sink: WebStreamSink) {}

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.sink.controller = controller
  }

  /** Called when the queue fell below the high-water mark: the reader is taking bytes again. */
  pull(): void {
    this.sink.pulled()
  }

  cancel(): void {
    this.sink.cancelled()
  }
}

class WebStreamSink implements WebSink {
  controller!: ReadableStreamDefaultController<Uint8Array>
  private readonly events = new SinkEvents()
  private isClosed = false
  private ended = false
  // The stream itself is closed only once the reader took every queued byte: that moment is `flushed`.
  private flushed = false
  private flushedListener: (() => void) | undefined
  private full = false
  written = 0

  constructor(readonly highWaterMark: number) {}

  get closed(): boolean {
    return this.isClosed
  }

  get pending(): number {
    const size = this.controller.desiredSize
    // null: errored or cancelled (nothing more will be sent).
    if (size === null || this.flushed) return 0
    return this.highWaterMark - size
  }

  write(chunk: Uint8Array): boolean {
    if (this.isClosed) return false
    this.controller.enqueue(chunk)
    this.written += chunk.length
    const room = (this.controller.desiredSize ?? 0) > 0
    if (!room) this.full = true
    return room
  }

  attach(owner: SinkOwner): void {
    this.events.attach(owner)
  }

  onFlushed(listener: () => void): void {
    if (this.flushed) listener()
    else this.flushedListener = listener
  }

  onDrain(listener: () => void): void {
    this.events.onDrain(listener)
  }

  onClose(listener: () => void): void {
    this.events.onClose(listener)
  }

  end(): void {
    if (this.isClosed) return
    this.isClosed = true
    this.ended = true
    // Closing the controller now would hide when the reader is done; `pull` closes it once drained.
    if (this.controller.desiredSize === this.highWaterMark) {
      this.controller.close()
      this.finish()
    }
    this.events.fireClose()
  }

  abort(): void {
    const wasEnded = this.ended
    this.isClosed = true
    this.ended = true
    try {
      this.controller.error(new Error('SSE stream aborted'))
    } catch {
      // Already closed and drained: nothing left to drop.
    }
    if (!wasEnded) this.events.fireClose()
    if (!this.flushed) this.finish()
  }

  /** @internal */
  pulled(): void {
    if (this.ended) {
      if (!this.flushed && this.controller.desiredSize === this.highWaterMark) {
        this.controller.close()
        this.finish()
      }
      return
    }
    if (this.full) {
      this.full = false
      this.events.fireDrain()
    }
  }

  /** @internal */
  cancelled(): void {
    this.isClosed = true
    this.events.fireClose()
    if (!this.flushed) this.finish()
  }

  private finish(): void {
    this.flushed = true
    const listener = this.flushedListener
    this.flushedListener = undefined
    listener?.()
  }
}
