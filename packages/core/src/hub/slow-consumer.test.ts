import { request } from 'node:http'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { TRANSPORTS, useHubServer, waitFor } from '@herald/test-utils'
import { describe, expect, it } from 'vitest'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const memory = () => {
  // Twice: buffers released by the first collection's finalizers go in the second.
  gc()
  gc()
  const m = process.memoryUsage()
  // Live JS objects plus Buffer / ArrayBuffer memory: what the hub, its queues and the sockets hold.
  return m.heapUsed + m.arrayBuffers
}

const ID_PREFIX = Buffer.from('id: sc-')

/** A fast client that checks, without keeping the stream, that ids arrive as 1, 2, 3… */
function countingClient(url: string): Promise<{ received: () => number; error: () => string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let received = 0
      let error: string | undefined
      let carry = Buffer.alloc(0)
      res.on('data', (chunk: Buffer) => {
        const b = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk
        let pos = 0
        let tail = -1
        for (;;) {
          const i = b.indexOf(ID_PREFIX, pos)
          if (i < 0) break
          const nl = b.indexOf(10, i)
          if (nl < 0) {
            tail = i
            break
          }
          const seq = Number(b.toString('latin1', i + ID_PREFIX.length, nl))
          if (seq !== received + 1 && !error) error = `expected id ${received + 1}, got ${seq}`
          received = seq
          pos = nl + 1
        }
        carry = Buffer.from(b.subarray(tail >= 0 ? tail : Math.max(pos, b.length - ID_PREFIX.length + 1)))
      })
      resolve({ received: () => received, error: () => error })
    })
    req.on('error', reject)
    req.end()
  })
}

describe.each(TRANSPORTS)('slow consumers over the %s sink', (transport) => {
  const served = useHubServer(transport)

  it('50 normal + 5 stuck subscribers, 20,000 events of 1 KiB: bounded memory, exact outcomes', async () => {
    const budget = 1024 * 1024
    const hub = await served.serve({
      epoch: 'sc',
      budgetBytes: budget,
      drainTimeoutMs: 60_000,
      history: false,
    })
    const normal = await Promise.all(
      Array.from({ length: 50 }, () => countingClient(served.url('?topic=feed').href)),
    )
    const stuck = await Promise.all(
      Array.from({ length: 5 }, () => served.open('?topic=feed', { paused: true, trimText: true })),
    )
    await waitFor(() => hub.subscriberCount('feed') === 55, '55 subscribers')
    const baseline = memory()
    let peak = 0
    const data = 'x'.repeat(1024 - 16)
    const total = 20_000
    for (let published = 0; published < total; ) {
      for (let i = 0; i < 200; i++, published++) hub.publish('feed', { data })
      // A producer that keeps pace with its normal readers (about 300 KiB in flight per reader).
      const slowest = () => Math.min(...normal.map((c) => c.received()))
      await waitFor(() => slowest() >= published - 300, 'normal readers to keep up', 20_000)
      if (published % 2000 === 0) {
        peak = Math.max(peak, memory() - baseline)
      }
    }
    await waitFor(
      () => normal.every((c) => c.received() === total),
      'every event at every normal reader',
      20_000,
    )
    peak = Math.max(peak, memory() - baseline)

    expect(normal.map((c) => c.error()).filter(Boolean)).toEqual([])
    expect(peak).toBeLessThan(5 * budget + 20 * 1024 * 1024)
    const m = hub.metrics()
    expect(m.published).toBe(total)
    expect(m.slowConsumerDisconnects).toBe(5)
    expect(hub.subscriberCount('feed')).toBe(50)

    // The stuck clients now read what the server wrote them: an unbroken prefix, then the notice.
    for (const s of stuck) s.resume()
    await Promise.all(stuck.map((s) => s.ended))
    let stuckDelivered = 0
    for (const s of stuck) {
      expect(s.events.at(-1)!.event).toBe('slow-consumer')
      const ids = s.events.slice(0, -1).map((e) => Number(e.id!.slice(3)))
      expect(ids[0]).toBe(1)
      expect(ids.at(-1)).toBe(ids.length)
      stuckDelivered += ids.length
    }
    expect(m.delivered).toBe(50 * total + stuckDelivered)
    console.log(
      `${transport}: peak growth ${(peak / 1048576).toFixed(1)} MiB; stuck clients got ${stuckDelivered}`,
    )
  }, 90_000)
})
