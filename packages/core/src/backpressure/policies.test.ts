import type { IncomingMessage } from 'node:http'
import { type OpenOptions, TRANSPORTS, useHubServer, waitFor } from '@herald/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import type { CloseReason, Hub, HubOptions, StreamOptions } from '../types.js'

const KIB = 'x'.repeat(1024)
const seqOf = (id: string | undefined) => Number(id?.split('-').pop())
const tick = () => new Promise((r) => setImmediate(r))

/** Publishes 1 KiB events in batches, yielding to I/O between them, until `done()` or `max` events. */
async function publishUntil(
  hub: Hub,
  topic: string,
  done: () => boolean,
  max = 40_000,
  key?: (i: number) => string,
) {
  let i = 0
  while (!done() && i < max) {
    for (let b = 0; b < 50; b++, i++) hub.publish(topic, { data: KIB, key: key?.(i) })
    await tick()
  }
  return i
}

describe.each(TRANSPORTS)('backpressure over the %s sink', (transport) => {
  const served = useHubServer(transport)
  let writes: number[] = []
  afterEach(() => {
    writes = []
  })

  function setup(options: HubOptions = {}, stream: StreamOptions<IncomingMessage> = {}) {
    return served.serve({ epoch: 'bp', ...options }, stream, (n) => writes.push(n))
  }
  const open = (path: string, options?: OpenOptions) => served.open(path, { trimText: true, ...options })

  it('writes the frames published in one tick in one write', async () => {
    const hub = await setup()
    const s = await open('/?topic=t')
    await waitFor(() => hub.subscriberCount() === 1, 'subscribed')
    await new Promise((r) => setTimeout(r, 50))
    writes = []
    for (let i = 0; i < 50; i++) hub.publish('t', { data: `event ${i}` })
    await s.waitForEvents(50)
    expect(writes).toHaveLength(1)
    expect(s.events.map((e) => e.data)).toEqual(Array.from({ length: 50 }, (_, i) => `event ${i}`))
  })

  it('disconnect: ends a stuck subscriber with a slow-consumer event; others get everything', async () => {
    const reasons: CloseReason[] = []
    const hub = await setup({ budgetBytes: 64 * 1024, onUnsubscribe: (_s, r) => reasons.push(r) })
    const fast = await open('/?topic=t')
    const slow = await open('/?topic=t', { paused: true })
    await waitFor(() => hub.subscriberCount() === 2, 'subscribers')
    const sent = await publishUntil(hub, 't', () => hub.metrics().slowConsumerDisconnects > 0)
    expect(hub.metrics().slowConsumerDisconnects).toBe(1)
    expect(reasons).toEqual(['slow-consumer'])
    expect(hub.subscriberCount()).toBe(1)
    await fast.waitForEvents(sent, 20_000)
    expect(fast.events.map((e) => seqOf(e.id))).toEqual(Array.from({ length: sent }, (_, i) => i + 1))
    slow.resume()
    await slow.ended
    const last = slow.events.at(-1)!
    expect(last.event).toBe('slow-consumer')
    // What the slow client did get is an unbroken prefix.
    const seqs = slow.events.slice(0, -1).map((e) => seqOf(e.id))
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
  })

  it('drop-oldest: drops queued events and says so with a gap event before the next one', async () => {
    const hub = await setup({ budgetBytes: 64 * 1024, slowConsumer: 'drop-oldest', drainTimeoutMs: 0 })
    const slow = await open('/?topic=t', { paused: true })
    await waitFor(() => hub.subscriberCount() === 1, 'subscriber')
    await publishUntil(hub, 't', () => hub.metrics().dropped > 200)
    hub.publish('t', { data: 'final' })
    slow.resume()
    await waitFor(() => slow.events.at(-1)?.data === 'final', 'the final event', 20_000)
    const m = hub.metrics()
    expect(m.slowConsumerDisconnects).toBe(0)
    expect(hub.subscriberCount()).toBe(1)
    let previous = 0
    let gaps = 0
    let missing = 0
    for (let i = 0; i < slow.events.length; i++) {
      const e = slow.events[i]!
      if (e.event === 'gap') {
        gaps++
        const next = seqOf(slow.events[i + 1]!.id)
        // The notice counts exactly the events skipped between the last one received and the next.
        expect(Number(e.data)).toBe(next - previous - 1)
        missing += Number(e.data)
        continue
      }
      const seq = seqOf(e.id)
      if (seq !== previous + 1) expect(slow.events[i - 1]!.event).toBe('gap')
      previous = seq
    }
    expect(gaps).toBeGreaterThan(0)
    expect(gaps).toBe(m.gaps)
    expect(missing).toBe(m.dropped)
    expect(m.delivered).toBe(slow.events.length - gaps)
  })

  it('latest: keeps the newest event per key and never drops a key entirely', async () => {
    const hub = await setup({ budgetBytes: 64 * 1024, slowConsumer: 'latest', drainTimeoutMs: 0 })
    const slow = await open('/?topic=t', { paused: true })
    await waitFor(() => hub.subscriberCount() === 1, 'subscriber')
    const keys = 20
    const lastByKey = new Map<string, number>()
    let n = 0
    while (hub.metrics().coalesced < 500 && n < 40_000) {
      // Published in one synchronous run (nothing is flushed in between), then their ids read.
      const batch: [string, Promise<string>][] = []
      for (let b = 0; b < 50; b++, n++) {
        const key = `k${n % keys}`
        batch.push([key, hub.publish('t', { data: `${key}:${n}:${KIB}`, key })])
      }
      for (const [key, id] of batch) lastByKey.set(key, seqOf(await id))
      await tick()
    }
    slow.resume()
    const wanted = Math.max(...lastByKey.values())
    await waitFor(() => seqOf(slow.events.at(-1)?.id) === wanted, 'the newest event', 20_000)
    const seqs = slow.events.map((e) => seqOf(e.id))
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs)
    for (const seq of lastByKey.values()) expect(seqs).toContain(seq)
    const m = hub.metrics()
    expect(m.coalesced).toBeGreaterThanOrEqual(500)
    expect(m.slowConsumerDisconnects).toBe(0)
    expect(m.delivered).toBe(seqs.length)
    expect(m.published - m.coalesced).toBe(seqs.length)
  })

  it('drain deadline: disconnects a subscriber whose socket takes nothing', async () => {
    const reasons: CloseReason[] = []
    const hub = await setup({
      budgetBytes: 64 * 1024 * 1024,
      drainTimeoutMs: 300,
      heartbeatMs: 0,
      onUnsubscribe: (_s, r) => reasons.push(r),
    })
    await open('/?topic=t', { paused: true })
    await waitFor(() => hub.subscriberCount() === 1, 'subscriber')
    const big = 'y'.repeat(64 * 1024)
    for (let i = 0; i < 200 && hub.subscriberCount() === 1; i++) {
      hub.publish('t', { data: big })
      await tick()
    }
    await waitFor(() => hub.subscriberCount() === 0, 'drain timeout', 10_000)
    expect(reasons).toEqual(['drain-timeout'])
    expect(hub.metrics().drainTimeouts).toBe(1)
  })
})
