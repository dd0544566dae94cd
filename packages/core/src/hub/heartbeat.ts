/**
 * One timer for the whole hub: heartbeats, drain deadlines and lingering sinks are all checked on its
 * ticks, so idle cost does not grow with a timer per connection. It runs only while there is work and
 * never keeps the process alive (unref).
 */
export class SharedTicker {
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    readonly intervalMs: number,
    private readonly onTick: () => void,
  ) {}

  start(): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(this.onTick, this.intervalMs)
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  stop(): void {
    if (this.timer === undefined) return
    clearInterval(this.timer)
    this.timer = undefined
  }
}

/** Tick often enough to honour the shortest interval within a quarter of it, at most once a second. */
export function tickInterval(heartbeatMs: number, drainTimeoutMs: number): number {
  const shortest = Math.min(
    heartbeatMs || Number.POSITIVE_INFINITY,
    drainTimeoutMs || Number.POSITIVE_INFINITY,
  )
  if (shortest === Number.POSITIVE_INFINITY) return 1000
  return Math.max(5, Math.min(1000, Math.floor(shortest / 4)))
}
