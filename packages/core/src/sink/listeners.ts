/** Drain and close listeners shared by both sinks: close fires exactly once. */
export class SinkEvents {
  private drainListeners: (() => void)[] = []
  private closeListeners: (() => void)[] | undefined = []

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener)
  }

  onClose(listener: () => void): void {
    this.closeListeners?.push(listener)
  }

  drain(): void {
    for (const l of this.drainListeners) l()
  }

  /** Runs the close listeners once; later calls do nothing. */
  close(): void {
    const listeners = this.closeListeners
    if (!listeners) return
    this.closeListeners = undefined
    this.drainListeners = []
    for (const l of listeners) l()
  }
}
