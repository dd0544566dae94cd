import type { Broker } from '../broker/types.js'
import { HeraldConfigError, HeraldEncodingError } from '../errors.js'
import { encodeEvent } from '../protocol/encode.js'
import type { FlushableSink } from '../sink/listeners.js'
import type { CloseOptions, Sink } from '../types.js'
import type { AdmissionControl } from './admission.js'
import { clock } from './flush.js'
import type { SharedTicker } from './heartbeat.js'
import type { SubscriberRegistry } from './registry.js'

/**
 * Ending streams well: sinks ended with bytes unsent are kept ("lingering") until they hand on their
 * last byte or pass the drain deadline, and `close()` resolves when the last of them is done.
 */
export class Shutdown {
  /** Sinks that were ended with bytes still unsent, and when to give up on them. */
  private readonly lingering = new Map<Sink, number>()
  private closing: Promise<void> | undefined
  /** While `close()` waits for lingering sinks: resolves it. */
  private closeWaiter: (() => void) | undefined

  constructor(
    private readonly drainTimeoutMs: number,
    private readonly admission: AdmissionControl,
    private readonly registry: SubscriberRegistry,
    private readonly ticker: SharedTicker,
    private readonly broker: Broker,
  ) {}

  /** No ended sink is still sending. */
  get idle(): boolean {
    return this.lingering.size === 0
  }

  /** Keeps an ended sink until it has sent everything, aborting it past the drain deadline. */
  linger(sink: Sink): void {
    if (sink.pending === 0 || this.drainTimeoutMs === 0) return
    this.lingering.set(sink, clock() + this.drainTimeoutMs)
    this.ticker.start()
    // Herald's sinks say when they are done; others are polled (on the tick, or while closing).
    const flushable = sink as Partial<FlushableSink>
    if (typeof flushable.onFlushed === 'function') {
      flushable.onFlushed(() => {
        if (this.lingering.delete(sink) && this.lingering.size === 0) this.closeWaiter?.()
      })
    }
  }

  /** Forgets ended sinks that have sent everything, aborts those past their deadline. */
  checkLingering(now: number): void {
    for (const [sink, deadline] of this.lingering) {
      if (sink.pending === 0) this.lingering.delete(sink)
      else if (now >= deadline) {
        this.lingering.delete(sink)
        sink.abort?.()
      }
    }
    if (this.lingering.size === 0) this.closeWaiter?.()
  }

  /** `hub.close()`: refuses new subscribers and publishes, ends every stream, then closes the broker. */
  close(closeOptions: CloseOptions = {}): Promise<void> {
    if (this.closing) return this.closing
    if (closeOptions === null || typeof closeOptions !== 'object') {
      throw new HeraldConfigError('close options', 'must be an object')
    }
    const final: Uint8Array[] = []
    if (closeOptions.event !== undefined) {
      if ((closeOptions.event as { id?: unknown }).id !== undefined) {
        throw new HeraldEncodingError('id', 'ERR_SSE_INVALID_ID', 'a closing event carries no id')
      }
      const { data, event, retry, comment } = closeOptions.event
      final.push(encodeEvent({ data, event, retry, comment }))
    }
    if (closeOptions.retryMs !== undefined) {
      final.push(encodeEvent({ retry: closeOptions.retryMs }))
      this.admission.closedRetryAfter = Math.max(1, Math.ceil(closeOptions.retryMs / 1000))
    }
    this.admission.closed = true
    for (const sub of [...this.registry.all]) sub.close('hub-closed', final)
    this.closing = (async () => {
      if (this.lingering.size > 0) await this.drained()
      this.ticker.stop()
      await this.broker.close()
    })()
    return this.closing
  }

  /**
   * Resolves the moment the last ended stream has sent everything (its sink says so), or a sink without
   * that signal is seen with nothing pending, or the drain deadline aborted the last one.
   */
  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      this.closeWaiter = () => {
        this.closeWaiter = undefined
        clearTimeout(timer)
        resolve()
      }
      const check = () => {
        this.checkLingering(clock())
        if (!this.closeWaiter) return
        let next = Number.POSITIVE_INFINITY
        let polled = false
        for (const [sink, deadline] of this.lingering) {
          next = Math.min(next, deadline)
          if (typeof (sink as Partial<FlushableSink>).onFlushed !== 'function') polled = true
        }
        timer = setTimeout(check, polled ? 10 : Math.max(1, next - clock()))
      }
      check()
    })
  }
}
