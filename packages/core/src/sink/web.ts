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
  const highWaterMark = options.highWaterMark ?? 16 * 1024
  const events = new SinkEvents()
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let closed = false
  let ended = false
  // The stream itself is closed only once the reader took every queued byte: that moment is `flushed`.
  let flushed = false
  let onFlushed: (() => void) | undefined
  const finish = () => {
    flushed = true
    const listener = onFlushed
    onFlushed = undefined
    listener?.()
  }
  let full = false
  let written = 0

  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
      },
      pull() {
        // Called when the queue fell below the high-water mark: the reader is taking bytes again.
        if (ended) {
          if (!flushed && controller.desiredSize === highWaterMark) {
            controller.close()
            finish()
          }
          return
        }
        if (full) {
          full = false
          events.fireDrain()
        }
      },
      cancel() {
        closed = true
        events.fireClose()
        if (!flushed) finish()
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark }),
  )

  const sink: WebSink = {
    get written() {
      return written
    },
    get closed() {
      return closed
    },
    get pending() {
      const size = controller.desiredSize
      // null: errored or cancelled (nothing more will be sent).
      if (size === null || flushed) return 0
      return highWaterMark - size
    },
    write(chunk) {
      if (closed) return false
      controller.enqueue(chunk)
      written += chunk.length
      const room = (controller.desiredSize ?? 0) > 0
      if (!room) full = true
      return room
    },
    highWaterMark,
    attach: (owner: SinkOwner) => events.attach(owner),
    onFlushed(listener) {
      if (flushed) listener()
      else onFlushed = listener
    },
    onDrain: (l) => events.onDrain(l),
    onClose: (l) => events.onClose(l),
    end() {
      if (closed) return
      closed = true
      ended = true
      // Closing the controller now would hide when the reader is done; `pull` closes it once drained.
      if (controller.desiredSize === highWaterMark) {
        controller.close()
        finish()
      }
      events.fireClose()
    },
    abort() {
      const wasEnded = ended
      closed = true
      ended = true
      try {
        controller.error(new Error('SSE stream aborted'))
      } catch {
        // Already closed and drained: nothing left to drop.
      }
      if (!wasEnded) events.fireClose()
      if (!flushed) finish()
    },
  }
  return { sink, stream }
}
