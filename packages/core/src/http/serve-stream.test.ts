import {
  handler,
  openStream,
  type StreamClient,
  startServer,
  type TestServer,
  TRANSPORTS,
} from '@herald/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { createHub } from '../hub/hub.js'
import type { Hub } from '../types.js'

const CORS = { 'Access-Control-Allow-Origin': 'https://app.example' }

describe.each(TRANSPORTS)('refusals over the %s sink', (transport) => {
  let server: TestServer | undefined
  let hub: Hub | undefined
  const streams: StreamClient[] = []
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close()
    await hub?.close()
    await server?.close()
    server = hub = undefined
  })
  const open = async (path: string, headers?: Record<string, string>) => {
    const s = await openStream(`${server!.url}${path}`, { headers })
    streams.push(s)
    return s
  }

  it('answers a limit, a client limit and a closed hub alike: status, Retry-After, no-store, CORS', async () => {
    hub = createHub({ maxSubscribers: 2, maxSubscribersPerClient: 1 })
    server = await startServer(handler(transport, hub, { headers: CORS, clientKey: (req) => req.url }))
    const first = await open('?topic=a')
    expect(first.status).toBe(200)
    expect(first.headers['access-control-allow-origin']).toBe('https://app.example')
    const same = await open('?topic=a')
    await open('?topic=b')
    const full = await open('?topic=c')
    await hub.close({ retryMs: 3000 })
    const closed = await open('?topic=d')
    const answers = [same, full, closed].map((s) => ({
      status: s.status,
      retryAfter: s.headers['retry-after'],
      cacheControl: s.headers['cache-control'],
      contentType: s.headers['content-type'],
      cors: s.headers['access-control-allow-origin'],
      nosniff: s.headers['x-content-type-options'],
      buffering: s.headers['x-accel-buffering'],
    }))
    const refused = { cacheControl: 'no-store', contentType: 'text/plain; charset=utf-8' }
    const common = { ...refused, cors: 'https://app.example', nosniff: 'nosniff', buffering: undefined }
    expect(answers).toEqual([
      { status: 429, retryAfter: '5', ...common },
      { status: 503, retryAfter: '5', ...common },
      { status: 503, retryAfter: '3', ...common },
    ])
    expect(full.text).toMatch(/Too many subscribers/)
    expect(hub.metrics().refused).toEqual({ limit: 1, clientLimit: 1, closed: 1 })
  })
})
