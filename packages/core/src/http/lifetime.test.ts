import { TRANSPORTS, useHubServer, waitFor } from '@herald/test-utils'
import { describe, expect, it } from 'vitest'
import { HeraldConfigError } from '../errors.js'
import { createHub } from '../hub/hub.js'
import { admitStream } from './admit.js'

describe.each(TRANSPORTS)('stream lifetime over the %s sink', (transport) => {
  const served = useHubServer(transport)

  it('maxLifetimeMs: each stream ends with a retry hint, at a time spread by the jitter', async () => {
    const hub = await served.serve({ heartbeatMs: 0 }, { maxLifetimeMs: 400, lifetimeJitter: 0.5 })
    const opened = performance.now()
    const streams = await Promise.all(Array.from({ length: 8 }, () => served.open('?topic=t')))
    const endedAt: number[] = []
    await Promise.all(streams.map((s) => s.ended.then(() => endedAt.push(performance.now() - opened))))
    for (const s of streams) {
      expect(s.status).toBe(200)
      expect(s.text.endsWith('retry: 1000\n\n')).toBe(true)
      expect(s.retries).toEqual([1000])
    }
    // Between 400 * (1 - 0.5) and 400 ms after opening (plus a scheduling margin), and not all at once.
    for (const t of endedAt) {
      expect(t).toBeGreaterThanOrEqual(195)
      expect(t).toBeLessThan(400 + 250)
    }
    expect(Math.max(...endedAt) - Math.min(...endedAt)).toBeGreaterThan(5)
    await waitFor(() => hub.subscriberCount() === 0, 'every subscriber released')
  })

  it('a client that comes back after its lifetime ended resumes with Last-Event-ID', async () => {
    const hub = await served.serve(
      { heartbeatMs: 0 },
      { maxLifetimeMs: 150, lifetimeJitter: 0, lifetimeRetryMs: 50 },
    )
    const first = await served.open('?topic=t')
    hub.publish('t', { data: 'one' })
    await first.waitForEvents(1)
    await first.ended
    expect(first.retries).toEqual([50])
    hub.publish('t', { data: 'two' })
    const again = await served.open('?topic=t', { headers: { 'last-event-id': first.events[0]!.id! } })
    await again.waitForEvents(1)
    expect(again.events.map((e) => e.data)).toEqual(['two'])
  })

  it('authorize with expiresAt: the stream ends with the expired event at that moment', async () => {
    const hub = await served.serve(
      { heartbeatMs: 0 },
      {
        maxLifetimeMs: 60_000,
        expiredEvent: 'token-expired',
        authorize: (req) => ({
          expiresAt: new Date(Date.now() + Number(new URL(req.url!, 'http://x').searchParams.get('ttl'))),
        }),
      },
    )
    const started = performance.now()
    const s = await served.open('?topic=t&ttl=250')
    hub.publish('t', { data: 'before' })
    await s.ended
    expect(performance.now() - started).toBeGreaterThanOrEqual(200)
    expect(s.events.map((e) => [e.event, e.data])).toEqual([
      [undefined, 'before'],
      ['token-expired', ''],
    ])
    expect(s.retries).toEqual([])
    await waitFor(() => hub.subscriberCount() === 0, 'the subscriber released')

    // Credentials that expired already: 401 before any stream starts.
    const late = await fetch(served.url('?topic=t&ttl=-1'))
    expect(late.status).toBe(401)
    expect(await late.text()).toMatch(/expired/)
  })

  it('a client that leaves before its deadline leaves nothing behind', async () => {
    const hub = await served.serve({ heartbeatMs: 0 }, { maxLifetimeMs: 100, lifetimeJitter: 0 })
    const s = await served.open('?topic=t')
    s.close()
    await waitFor(() => hub.subscriberCount() === 0, 'the subscriber released')
    await new Promise((r) => setTimeout(r, 150))
    expect(hub.metrics().subscribers).toBe(0)
  })
})

describe('stream lifetime options', () => {
  const req = { url: new URL('http://x/events?topic=t'), lastEventId: undefined, remoteAddress: undefined }

  it('is off by default: no deadline', async () => {
    const a = await admitStream(createHub(), {}, {}, req)
    expect(a).toMatchObject({ ok: true })
    expect('deadline' in a).toBe(false)
  })

  it('takes the earlier of the lifetime and the expiry', async () => {
    const hub = createHub()
    const soon = Date.now() + 1000
    const a = await admitStream(
      hub,
      { maxLifetimeMs: 60_000, authorize: () => ({ expiresAt: soon }) },
      {},
      req,
    )
    expect(a).toMatchObject({ ok: true, deadline: { at: soon, reason: 'expired' } })
    const b = await admitStream(
      hub,
      { maxLifetimeMs: 500, authorize: () => ({ expiresAt: soon + 60_000 }) },
      {},
      req,
    )
    expect(b).toMatchObject({ ok: true, deadline: { reason: 'lifetime' } })
    const c = await admitStream(hub, { authorize: () => ({ topics: ['t'], expiresAt: soon }) }, {}, req)
    expect(c).toMatchObject({ ok: true, topics: ['t'], deadline: { at: soon, reason: 'expired' } })
  })

  it('refuses bad values with a typed error naming the option', async () => {
    const hub = createHub()
    const bad = [
      [{ maxLifetimeMs: 0 }, 'maxLifetimeMs'],
      [{ maxLifetimeMs: 1.5 }, 'maxLifetimeMs'],
      [{ maxLifetimeMs: 100, lifetimeJitter: 1 }, 'lifetimeJitter'],
      [{ lifetimeRetryMs: -1 }, 'lifetimeRetryMs'],
      [{ expiredEvent: 'a\nb' }, 'expiredEvent'],
      [{ authorize: () => ({ expiresAt: Number.NaN }) }, 'authorize'],
      [{ authorize: () => ({ expiresAt: new Date('nonsense') }) }, 'authorize'],
    ] as const
    for (const [options, name] of bad) {
      const error = await admitStream(hub, options, {}, req).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(HeraldConfigError)
      expect((error as HeraldConfigError).option).toBe(name)
    }
  })
})
