/** How long to wait before reconnecting. */
export interface BackoffOptions {
  /** The first wait, until the server sends `retry:`. Default 1000 ms. */
  initialDelayMs?: number
  /** The largest wait, before jitter. Default 30 000 ms. */
  maxDelayMs?: number
  /** Stop (`ERR_SSE_GAVE_UP`) after this many failed attempts in a row; a stream that ends counts as one. Default: never. */
  maxAttempts?: number
}

/**
 * The wait before reconnect attempt `failures` (1 for the first attempt after a loss):
 * - the first waits exactly `base`, the server's `retry:` hint when it sent one (as EventSource does),
 *   but no longer than `maxMs`;
 * - later ones wait a random time up to `base × 2^(failures−1)`, capped at `maxMs` ("full jitter"), so
 *   clients cut off together do not come back together;
 * - `retryAfterMs` (a 429/503's Retry-After) is a floor: the wait is at least that, plus a random share of
 *   the current backoff for the same reason.
 */
export function reconnectDelay(
  failures: number,
  base: number,
  floor: number,
  maxMs: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  // A retry: 0 hint must not turn repeated failures into a tight loop: grow from at least `floor`.
  const ceiling = Math.min(maxMs, Math.max(base, floor) * 2 ** Math.min(failures - 1, 30))
  if (retryAfterMs !== undefined) return retryAfterMs + Math.floor(random() * ceiling)
  return failures <= 1 ? Math.min(base, maxMs) : Math.floor(random() * ceiling)
}

/** Retry-After as milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  // An HTTP date names a day or month; Date.parse alone would take "-1" for a year.
  const date = /[a-z]/i.test(v) ? Date.parse(v) : Number.NaN
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
