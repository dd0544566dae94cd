/**
 * Drain and close listeners of a sink. One field per sink: Herald's own sinks hold their subscriber there
 * (no listener closures per stream); only a sink given listeners gets an object for them. Close fires
 * exactly once.
 */
export class SinkEvents {
  private slot: SinkOwner | Registered | undefined

  /** Herald's own sinks call their subscriber directly: no listener closures per stream. */
  attach(owner: SinkOwner): void {
    const slot = this.slot
    if (slot === CLOSED) return
    if (slot instanceof Registered) slot.owner = owner
    else this.slot = owner
  }

  onDrain(listener: () => void): void {
    const r = this.registered()
    if (r) r.drain = add(r.drain, listener)
  }

  onClose(listener: () => void): void {
    const r = this.registered()
    if (r) r.close = add(r.close, listener)
  }

  fireDrain(): void {
    const slot = this.slot
    if (slot instanceof Registered) {
      slot.owner?.onSinkDrain()
      run(slot.drain)
    } else slot?.onSinkDrain()
  }

  /** Runs the close listeners once; later calls do nothing. */
  fireClose(): void {
    const slot = this.slot
    if (slot === CLOSED) return
    this.slot = CLOSED
    if (slot instanceof Registered) {
      slot.owner?.onSinkClose()
      run(slot.close)
    } else slot?.onSinkClose()
  }

  private registered(): Registered | undefined {
    const slot = this.slot
    if (slot === CLOSED) return undefined
    if (slot instanceof Registered) return slot
    const r = new Registered(slot)
    this.slot = r
    return r
  }
}

/** The listeners of a sink that was given some (and its owner, if it has one too). */
class Registered {
  drain: Listeners
  close: Listeners
  constructor(public owner: SinkOwner | undefined) {}
}

/** A sink's slot once it closed: nothing more runs. */
const CLOSED: SinkOwner = { onSinkDrain() {}, onSinkClose() {} }

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
