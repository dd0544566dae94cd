import { describe, expect, it } from 'vitest'
import { parseRetryAfter, reconnectDelay } from './backoff.js'

describe('reconnectDelay', () => {
  const max = 30_000
  it("waits exactly the base (the server's retry: hint) before the first attempt", () => {
    expect(reconnectDelay(1, 250, 1000, max, undefined, () => 0.99)).toBe(250)
    expect(reconnectDelay(1, 0, 1000, max, undefined, () => 0.5)).toBe(0)
    expect(reconnectDelay(1, 3_600_000, 1000, max, undefined, () => 0.5)).toBe(max) // a hint past the cap
  })

  it('then a random wait up to base × 2^(n−1), capped ("full jitter")', () => {
    expect(reconnectDelay(2, 1000, 1000, max, undefined, () => 0.5)).toBe(1000)
    expect(reconnectDelay(3, 1000, 1000, max, undefined, () => 0.999)).toBe(3996)
    expect(reconnectDelay(3, 1000, 1000, max, undefined, () => 0)).toBe(0)
    expect(reconnectDelay(10, 1000, 1000, max, undefined, () => 0.999)).toBe(29_970)
    expect(reconnectDelay(10_000, 1000, 1000, max, undefined, () => 0.999)).toBe(29_970)
  })

  it('grows from the floor when the hint is 0, so failures never become a tight loop', () => {
    expect(reconnectDelay(4, 0, 1000, max, undefined, () => 0.5)).toBe(4000)
  })

  it('never goes below Retry-After, and spreads clients refused together', () => {
    expect(reconnectDelay(1, 1000, 1000, max, 5000, () => 0)).toBe(5000)
    expect(reconnectDelay(1, 1000, 1000, max, 5000, () => 0.5)).toBe(5500)
    expect(reconnectDelay(3, 1000, 1000, max, 5000, () => 0.5)).toBe(7000)
  })
})

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates; ignores anything else', () => {
    expect(parseRetryAfter('5')).toBe(5000)
    expect(parseRetryAfter(' 0 ')).toBe(0)
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000)
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter(null)).toBeUndefined()
    expect(parseRetryAfter('')).toBeUndefined()
    expect(parseRetryAfter('-1')).toBeUndefined()
    expect(parseRetryAfter('soon')).toBeUndefined()
  })
})
