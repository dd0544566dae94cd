/**
 * Drain and close listeners of a sink. The hub registers one of each, so one listener is kept in a field
 * (no array per idle connection); more are supported. Close fires exactly once.
 */
export class SinkEvents {
  private owner: SinkOwner | undefined
  private drainListeners: Listeners
  private closeListeners: Listeners
  private fired = false

  /** Herald's own sinks call their subscriber directly: no listener closures per stream. */
  attach(owner: SinkOwner): void {
    this.owner = owner
  }

  onDrain(listener: () => void): void {
    this.drainListeners = add(this.drainListeners, listener)
  }

  onClose(listener: () => void): void {
    if (!this.fired) this.closeListeners = add(this.closeListeners, listener)
  }

  fireDrain(): void {
    this.owner?.onSinkDrain()
    run(this.drainListeners)
  }

  /** Runs the close listeners once; later calls do nothing. */
  fireClose(): void {
    if (this.fired) return
    this.fired = true
    const listeners = this.closeListeners
    const owner = this.owner
    this.closeListeners = undefined
    this.drainListeners = undefined
    this.owner = undefined
    owner?.onSinkClose()
    run(listeners)
  }
}

/** What the hub attaches to a sink that supports `attach` (Herald's node and web sinks). */
export interface SinkOwner {
  onSinkDrain(): void
  onSinkClose(): void
}

/** A sink that can call its owner directly instead of through listeners. */
export interface AttachableSink {
  attach(owner: SinkOwner): void
  /**
   * While `write` keeps returning true, `pending` stays below this many bytes: the hub can check a
   * subscriber's budget without reading `pending` when its queue is empty (the common, paced case).
   */
  readonly highWaterMark?: number
}

/**
 * A sink that says when an ended stream has handed its last byte on (Node: the response's `finish`;
 * web: the reader took the last chunk), so the hub need not poll `pending` while closing.
 */
export interface FlushableSink {
  /** Calls `listener` once, after `end()`, when nothing written is left unsent (or the stream died). */
  onFlushed(listener: () => void): void
}

type Listeners = (() => void) | (() => void)[] | undefined

function add(current: Listeners, listener: () => void): Listeners {
  if (current === undefined) return listener
  if (typeof current === 'function') return [current, listener]
  current.push(listener)
  return current
}

function run(listeners: Listeners): void {
  if (typeof listeners === 'function') listeners()
  else if (listeners) for (const l of [...listeners]) l()
}
