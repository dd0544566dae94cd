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
      },
    })
    await hub.close()
    const closed = await admitStream(hub, {}, {}, info('?topic=t'))
    expect(closed).toMatchObject({ ok: false, status: 503, headers: { 'retry-after': '5' } })
  })
})
