import { describe, expect, it } from 'vitest'
import { createHub } from '../hub/hub.js'
import type { RequestInfo } from '../types.js'
import { admitStream } from './admit.js'
import { SSE_HEADERS } from './headers.js'

const info = (query: string, lastEventId?: string): RequestInfo => ({
  url: new URL(`http://x/events${query}`),
  lastEventId,
  remoteAddress: '10.0.0.1',
})

describe('admitStream', () => {
  it('admits with topics, Last-Event-ID, client key and the SSE headers over the caller’s', async () => {
    const hub = createHub()
    const a = await admitStream(
      hub,
      { headers: { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'max-age=60' } },
      {},
      info('?topic=a&topic=b&topic=a', 'x-1'),
    )
    expect(a).toEqual({
      ok: true,
      topics: ['a', 'b'],
      lastEventId: 'x-1',
      clientKey: '10.0.0.1',
      headers: { 'access-control-allow-origin': '*', ...SSE_HEADERS },
    })
  })

  it('uses the topics and clientKey callbacks', async () => {
    const hub = createHub({ maxSubscribersPerClient: 1 })
    const a = await admitStream(hub, { topics: async () => ['t'], clientKey: () => 'user-7' }, {}, info(''))
    expect(a).toMatchObject({ ok: true, topics: ['t'], clientKey: 'user-7' })
  })

  it('lets an exception from authorize propagate to the framework', async () => {
    const hub = createHub()
    const boom = new Error('auth backend down')
    await expect(
      admitStream(
        hub,
        {
          authorize: () => {
            throw boom
          },
        },
        {},
        info('?topic=t'),
      ),
    ).rejects.toBe(boom)
  })

  it('refuses with plain-text reasons, keeping the caller’s headers (CORS) on refusals', async () => {
    const hub = createHub()
    const r = await admitStream(hub, { headers: { 'access-control-allow-origin': '*' } }, {}, info(''))
    expect(r).toEqual({
      ok: false,
      status: 400,
      body: 'Missing topic: pass at least one ?topic=',
      headers: {
        'access-control-allow-origin': '*',
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      },
    })
  })

  it('answers 400 to a request URL it cannot parse, before anything else runs', async () => {
    const hub = createHub()
    let called = false
    const authorize = () => {
      called = true
      return true
    }
    for (const url of ['http://a:99999/events?topic=t', 'http://[::1/events?topic=t', 'http://a b/events']) {
      const r = await admitStream(hub, { authorize }, {}, { url, lastEventId: undefined, remoteAddress: 'x' })
      expect(r).toMatchObject({
        ok: false,
        status: 400,
        body: 'Bad request: the request URL cannot be parsed',
      })
    }
    expect(called).toBe(false)
    // A raw target string that parses is read like a URL: path-relative or absolute.
    for (const url of [
      '/events?topic=t&lastEventId=e-1',
      'http://example.com:8080/events?topic=t&lastEventId=e-1',
    ]) {
      const ok = await admitStream(hub, {}, {}, { url, lastEventId: undefined, remoteAddress: 'x' })
      expect(ok).toMatchObject({ ok: true, topics: ['t'], lastEventId: 'e-1' })
    }
  })

  it('checks topics against the hub rules: count, length, control characters, pattern', async () => {
    const hub = createHub({ maxTopicsPerStream: 2, maxTopicLength: 8, topicPattern: /^[a-z:]+$/ })
    const cases: [string, string][] = [
      ['?topic=a&topic=b&topic=c', 'Too many topics: at most 2 per stream, got 3'],
      ['?topic=abcdefghi', 'Invalid topic: must be at most 8 characters'],
      ['?topic=a%0Ab', 'Invalid topic: must not contain control characters (U+0000 to U+001F, U+007F)'],
      ['?topic=A', 'Invalid topic: must match /^[a-z:]+$/'],
    ]
    for (const [query, body] of cases) {
      expect(await admitStream(hub, {}, {}, info(query))).toMatchObject({ ok: false, status: 400, body })
    }
    // Repeats count once.
    expect(await admitStream(hub, {}, {}, info('?topic=a&topic=b&topic=a'))).toMatchObject({ ok: true })
  })

  it('asks authorize about the checked topics and the Last-Event-ID, and lets it narrow them', async () => {
    const hub = createHub()
    const asked: unknown[] = []
    const admit = (query: string, verdict: unknown, lastEventId?: string) =>
      admitStream(
        hub,
        {
          authorize: (_req, request) => {
            asked.push(request)
            return verdict as boolean
          },
        },
        {},
        info(query, lastEventId),
      )
    expect(await admit('?topic=a&topic=private:x&topic=a', true, 'e-3')).toMatchObject({
      ok: true,
      topics: ['a', 'private:x'],
    })
    expect(asked).toEqual([{ topics: ['a', 'private:x'], lastEventId: 'e-3' }])
    expect(await admit('?topic=a&topic=private:x', { topics: ['a'] })).toMatchObject({
      ok: true,
      topics: ['a'],
    })
    expect(asked[1]).toEqual({ topics: ['a', 'private:x'] })
    expect(await admit('?topic=private:x', { topics: [] })).toMatchObject({
      ok: false,
      status: 403,
      body: 'Forbidden: none of the requested topics is allowed',
    })
    await expect(admit('?topic=a', { topics: ['a', 'b'] })).rejects.toThrow(
      /authorize: returned topic "b", which was not requested; \{ topics \} may only narrow/,
    )
    await expect(admit('?topic=a', 'yes')).rejects.toThrow(/must return a boolean/)
    // No topic: 400 before authorize is asked.
    expect(await admit('', true)).toMatchObject({ ok: false, status: 400 })
    expect(asked).toHaveLength(5)
  })
})
