import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHub, HeraldConfigError, type Hub } from '@herald/sse-core'
import { serveNode } from '@herald/sse-core/node'
import { openStream, type StreamClient, waitFor } from '@herald/test-utils'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { registerHeraldMetrics } from './index.js'

interface Family {
  name: string
  help: string
  type: string
  metrics: Array<{ value?: string; labels?: Record<string, string> }>
}

let close: (() => Promise<void>) | undefined
const streams: StreamClient[] = []
afterEach(async () => {
  for (const s of streams.splice(0)) s.close()
  await close?.()
  close = undefined
})

/** A node:http server: `/events` streams the hub, `/metrics` answers what the registry says. */
async function serve(hub: Hub, registry: Registry): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname === '/metrics') {
      registry.metrics().then((text) => {
        res.setHeader('content-type', registry.contentType)
        res.end(text)
      })
      return
    }
    const info = {
      url,
      lastEventId: req.headers['last-event-id'] as string | undefined,
      remoteAddress: undefined,
    }
    serveNode(hub, {}, req, info, res).catch((error) => res.destroy(error))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = async () => {
    await hub.close()
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }
  return base
}

/** Scrapes `/metrics` and parses it with a Prometheus text-format parser. */
async function scrape(base: string): Promise<Map<string, Family>> {
  const res = await fetch(`${base}/metrics`)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  const families = parsePrometheusTextFormat(await res.text()) as Family[]
  return new Map(families.map((f) => [f.name, f]))
}

function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name)
  if (!family) throw new Error(`no metric ${name} in the scrape`)
  const series = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
  if (!series) throw new Error(`no series ${name}${JSON.stringify(labels)}`)
  return Number(series.value)
}

/** Publishes 50 KiB per macrotask until `done()` (socket buffers take a few MiB before the queue fills). */
async function publishUntil(hub: Hub, topic: string, done: () => boolean): Promise<void> {
  const kib = 'k'.repeat(1024)
  for (let i = 0; i < 2000 && !done(); i++) {
    for (let b = 0; b < 50; b++) hub.publish(topic, { data: kib })
    await new Promise((r) => setTimeout(r, 0))
  }
  expect(done()).toBe(true)
}

async function open(url: string, options?: Parameters<typeof openStream>[1]): Promise<StreamClient> {
  const s = await openStream(url, options)
  streams.push(s)
  return s
}

describe('registerHeraldMetrics', () => {
  it('exports Prometheus-named metrics whose values move as streams open, events flow and a client stalls', async () => {
    const hub = createHub({ budgetBytes: 64 * 1024, drainTimeoutMs: 0, heartbeatMs: 0, maxSubscribers: 5 })
    const registry = new Registry()
    registerHeraldMetrics(hub, { registry, topics: ['news'] })
    const base = await serve(hub, registry)

    let m = await scrape(base)
    expect(value(m, 'herald_subscribers')).toBe(0)
    expect(value(m, 'herald_topic_subscribers', { topic: 'news' })).toBe(0)
    expect(value(m, 'herald_events_published_total')).toBe(0)
    // Names and types follow the conventions: counters end in _total, sizes are bytes, every metric has help.
    for (const family of m.values()) {
      expect(family.help).not.toBe('')
      if (family.type === 'COUNTER') expect(family.name).toMatch(/_total$/)
    }
    expect(m.get('herald_delivered_bytes_total')?.type).toBe('COUNTER')
    expect(m.get('herald_history_bytes')?.type).toBe('GAUGE')

    // Streams open: two on `news`, one on `sport` (not named, so no series of its own).
    const a = await open(`${base}/events?topic=news`)
    const b = await open(`${base}/events?topic=news`)
    const c = await open(`${base}/events?topic=sport`)
    m = await scrape(base)
    expect(value(m, 'herald_subscribers')).toBe(3)
    expect(value(m, 'herald_topic_subscribers', { topic: 'news' })).toBe(2)
    expect(m.get('herald_topic_subscribers')?.metrics.some((s) => s.labels?.topic === 'sport')).toBe(false)

    // Events flow: 5 on news reach two streams, 1 on sport reaches one.
    for (let i = 0; i < 5; i++) hub.publish('news', { data: `n${i}` })
    hub.publish('sport', { data: 's' })
    await Promise.all([a.waitForEvents(5), b.waitForEvents(5), c.waitForEvents(1)])
    m = await scrape(base)
    expect(value(m, 'herald_events_published_total')).toBe(6)
    expect(value(m, 'herald_frames_delivered_total')).toBe(11)
    const bytes = value(m, 'herald_delivered_bytes_total')
    expect(bytes).toBeGreaterThan(11 * 'data: n0\n\n'.length)
    // Every frame written was timed, from publish to the write to its connection.
    const latency = m.get('herald_delivery_latency_seconds')
    expect(latency?.type).toBe('HISTOGRAM')
    const histogram = latency!.metrics[0] as { count: string; sum: string; buckets: Record<string, string> }
    expect(Number(histogram.count)).toBe(11)
    expect(Number(histogram.buckets['+Inf'] ?? histogram.count)).toBe(11)
    expect(Number(histogram.sum)).toBeGreaterThanOrEqual(0)
    expect(value(m, 'herald_history_events')).toBe(6)
    expect(value(m, 'herald_history_bytes')).toBeGreaterThan(0)

    // A reconnect replays what it missed; an unknown id gets a reset.
    const lastId = a.events[1]!.id ?? ''
    const d = await open(`${base}/events?topic=news`, { headers: { 'last-event-id': lastId } })
    await d.waitForEvents(3)
    const e = await open(`${base}/events?topic=news`, { headers: { 'last-event-id': 'nonsense' } })
    await e.waitForEvents(1)
    m = await scrape(base)
    expect(value(m, 'herald_replayed_events_total')).toBe(3)
    expect(value(m, 'herald_replay_resets_total')).toBe(1)
    expect(value(m, 'herald_subscribers')).toBe(5)

    // Over maxSubscribers: refused and counted by reason.
    const refused = await fetch(`${base}/events?topic=news`)
    expect(refused.status).toBe(503)
    await refused.text()
    m = await scrape(base)
    expect(value(m, 'herald_refusals_total', { reason: 'too-many-subscribers' })).toBe(1)
    expect(value(m, 'herald_refusals_total', { reason: 'client-limit' })).toBe(0)
    const bad = await fetch(`${base}/events`)
    expect(bad.status).toBe(400)
    await bad.text()
    m = await scrape(base)
    expect(value(m, 'herald_refusals_total', { reason: 'bad-request' })).toBe(1)

    // A client stalls: it reads nothing while 1 MiB is published on its topic, and is cut for it.
    d.close()
    e.close()
    b.close()
    c.close()
    await waitFor(() => hub.subscriberCount() === 1, 'the closed streams to be released')
    const stalled = await open(`${base}/events?topic=slow`, { paused: true })
    await publishUntil(hub, 'slow', () => hub.subscriberCount('slow') === 0)
    m = await scrape(base)
    expect(value(m, 'herald_slow_consumer_disconnects_total')).toBe(1)
    expect(value(m, 'herald_subscribers')).toBe(1)
    expect(value(m, 'herald_topic_subscribers', { topic: 'news' })).toBe(1)
    stalled.close()
  })

  it('fills the delivery latency histogram as events reach fast clients and, late, a slow one', async () => {
    // A budget large enough that the slow client is held back, not cut.
    const hub = createHub({ heartbeatMs: 0, budgetBytes: 64 * 1024 * 1024, drainTimeoutMs: 30_000 })
    const registry = new Registry()
    registerHeraldMetrics(hub, { registry })
    const base = await serve(hub, registry)
    const histogram = (m: Map<string, Family>) => {
      const family = m.get('herald_delivery_latency_seconds')
      expect(family?.type).toBe('HISTOGRAM')
      const h = family!.metrics[0] as unknown as {
        count: string
        sum: string
        buckets: Record<string, string>
      }
      const buckets = Object.fromEntries(Object.entries(h.buckets).map(([le, n]) => [Number(le), Number(n)]))
      return { count: Number(h.count), sum: Number(h.sum), buckets }
    }

    let h = histogram(await scrape(base))
    expect(h.count).toBe(0)
    expect(Object.values(h.buckets).every((n) => n === 0)).toBe(true)

    // Two readers, ten events: twenty writes timed, all well under a second.
    const fast = [await open(`${base}/events?topic=fast`), await open(`${base}/events?topic=fast`)]
    for (let i = 0; i < 10; i++) await hub.publish('fast', { data: `f${i}` })
    await Promise.all(fast.map((s) => s.waitForEvents(10)))
    h = histogram(await scrape(base))
    expect(h.count).toBe(20)
    expect(h.buckets[1]).toBe(20)
    // Cumulative buckets: never decreasing, the largest one has every observation.
    const bounds = Object.keys(h.buckets)
      .map(Number)
      .sort((a, b) => a - b)
    for (let i = 1; i < bounds.length; i++)
      expect(h.buckets[bounds[i]!]!).toBeGreaterThanOrEqual(h.buckets[bounds[i - 1]!]!)
    expect(h.buckets[bounds.at(-1)!]).toBe(20)
    const fastSum = h.sum

    // A client that reads nothing: once its socket is full, events wait in its queue. Held 400 ms, then read.
    const slow = await open(`${base}/events?topic=slow`, { paused: true })
    const kib = 'k'.repeat(1024)
    let published = 0
    const deliveredBefore = hub.metrics().delivered
    while (published - (hub.metrics().delivered - deliveredBefore) < 200) {
      for (let b = 0; b < 50; b++) hub.publish('slow', { data: kib })
      published += 50
      await new Promise((r) => setTimeout(r, 0))
      expect(published, 'the slow client\u2019s socket never filled').toBeLessThan(100_000)
    }
    const heldFrom = hub.metrics().delivered - deliveredBefore
    await new Promise((r) => setTimeout(r, 400))
    slow.resume()
    await slow.waitForEvents(published, 30_000)
    h = histogram(await scrape(base))
    expect(h.count).toBe(20 + published)
    expect(h.buckets[bounds.at(-1)!]).toBe(20 + published)
    // The events that waited in the queue were written at least 400 ms after they were published.
    const held = published - heldFrom
    expect(h.buckets[0.25]).toBeLessThanOrEqual(20 + published - held)
    expect(h.sum - fastSum).toBeGreaterThanOrEqual(held * 0.4)
  })

  it('counts heartbeats, drops and gaps', async () => {
    const hub = createHub({ heartbeatMs: 20, budgetBytes: 64 * 1024, slowConsumer: 'drop-oldest' })
    const registry = new Registry()
    registerHeraldMetrics(hub, { registry, prefix: 'sse_', labels: { instance: 'a' } })
    const base = await serve(hub, registry)
    const idle = await open(`${base}/events?topic=quiet`)
    await waitFor(() => idle.comments.length >= 2, 'two heartbeats')
    const slow = await open(`${base}/events?topic=busy`, { paused: true })
    await publishUntil(hub, 'busy', () => hub.metrics().dropped > 0)
    hub.publish('busy', { data: 'after the drops' })
    slow.resume()
    await waitFor(() => slow.events.some((e) => e.event === 'gap'), 'a gap notice')
    const m = await scrape(base)
    expect(value(m, 'sse_heartbeats_total', { instance: 'a' })).toBeGreaterThanOrEqual(2)
    expect(value(m, 'sse_dropped_events_total', { instance: 'a' })).toBeGreaterThan(0)
    expect(value(m, 'sse_gaps_total', { instance: 'a' })).toBeGreaterThanOrEqual(1)
    expect(m.has('herald_subscribers')).toBe(false)
    expect(m.has('sse_topic_subscribers')).toBe(false)
  })

  it('refuses bad options with a typed error naming the option, and unregisters', () => {
    const hub = createHub()
    const registry = new Registry()
    expect(() => registerHeraldMetrics(hub, { registry, prefix: '9x' })).toThrow(HeraldConfigError)
    expect(() => registerHeraldMetrics(hub, { registry, prefix: '9x' })).toThrow(/prefix/)
    expect(() => registerHeraldMetrics(hub, { registry, topics: 'news' as never })).toThrow(/topics/)
    expect(() => registerHeraldMetrics(hub, { registry, labels: { topic: 'x' } })).toThrow(/labels\.topic/)
    expect(() => registerHeraldMetrics({} as Hub, { registry })).toThrow(/hub/)
    expect(() => registerHeraldMetrics(hub, { registry, latencyBuckets: [1, 0.5] })).toThrow(/latencyBuckets/)
    const metrics = registerHeraldMetrics(hub, { registry })
    expect(registry.getMetricsAsArray()).toHaveLength(metrics.names.length)
    // The same names twice in one registry is a configuration mistake prom-client reports.
    expect(() => registerHeraldMetrics(hub, { registry })).toThrow(/already been registered/)
    metrics.unregister()
    expect(registry.getMetricsAsArray()).toHaveLength(0)
    void hub.close()
  })
})
