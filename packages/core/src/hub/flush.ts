/** What the scheduler flushes: a subscriber with frames queued since its last write. */
export interface Flushable {
  /** True while it waits in the scheduler's list (so it is listed once). */
  scheduled: boolean
  flush(now: number): void
}

/** Milliseconds on a monotonic clock, as a small integer (no heap number per timestamp). */
export const clock = () => Math.floor(performance.now())

/**
 * Flushes the subscribers that have frames queued once the current task's synchronous code is done (a
 * microtask): every publish made in that run leaves in one write per subscriber, and no event waits for
 * another loop iteration.
 */
export class FlushScheduler {
  // Two lists, swapped at each flush and reused: no array grows from scratch per publish.
  private dirty: Flushable[] = []
  private spare: Flushable[] = []
  private pending = false

  private readonly flushAll = () => {
    this.pending = false
    const list = this.dirty
    this.dirty = this.spare
    const now = clock()
    for (let i = 0; i < list.length; i++) list[i]!.flush(now)
    list.length = 0
    this.spare = list
  }

  /** Flushes `sub` at the end of the current task. */
  schedule(sub: Flushable): void {
    sub.scheduled = true
    this.dirty.push(sub)
    if (!this.pending) {
      this.pending = true
      queueMicrotask(this.flushAll)
    }
  }
}
