/**
 * Drain and close listeners of a sink. The hub registers one of each, so one listener is kept in a field
 * (no array per idle connection); more are supported. Close fires exactly once.
 */
export class SinkEvents {
  private drainListeners: Listeners
  private closeListeners: Listeners
  private closed = false

  onDrain(listener: () => void): void {
    this.drainListeners = add(this.drainListeners, listener)
  }

  onClose(listener: () => void): void {
    if (!this.closed) this.closeListeners = add(this.closeListeners, listener)
  }

  drain(): void {
    run(this.drainListeners)
  }

  /** Runs the close listeners once; later calls do nothing. */
  close(): void {
    if (this.closed) return
    this.closed = true
    const listeners = this.closeListeners
    this.closeListeners = undefined
    this.drainListeners = undefined
    run(listeners)
  }
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
