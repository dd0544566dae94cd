import { request } from 'node:http'
import { handler, requestInfo, startServer, type TestServer, TRANSPORTS } from '@herald/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { createHub } from '../hub/hub.js'
import { serveNode } from '../node/serve.js'
import type { Hub } from '../types.js'
import { SSE_HEADERS } from './headers.js'

/** A real HEAD request; resolves once the response is complete, with its status, headers and body. */
function head(url: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(url, { method: 'HEAD' }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          body += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      req.on('error', reject)
      req.end()
    },
  )
}

describe('HEAD on an event stream', () => {
  let server: TestServer | undefined
  let hub: Hub | undefined
  afterEach(async () => {
    await server?.close()
    await hub?.close()
    server = hub = undefined
  })

  for (const transport of TRANSPORTS) {
    it(`${transport}: answers 200 with the SSE headers, no body and no subscription`, async () => {
      const subscribed: string[] = []
      hub = createHub({ onSubscribe: (s) => subscribed.push(s.id) })
      server = await startServer(handler(transport, hub, { headers: { 'access-control-allow-origin': '*' } }))
      const res = await head(`${server.url}?topic=t`)
      expect(res.status).toBe(200)
      expect(res.headers['content-type']).toBe(SSE_HEADERS['content-type'])
      expect(res.headers['cache-control']).toBe(SSE_HEADERS['cache-control'])
      expect(res.headers['access-control-allow-origin']).toBe('*')
      expect(res.body).toBe('')
      expect(subscribed).toEqual([])
      expect(hub.metrics().subscribers).toBe(0)
      // The same checks as a GET: a refusal keeps its status.
      expect((await head(server.url)).status).toBe(400)
    })
  }

  it('serveNode reads the method from the Node request when the adapter does not pass it', async () => {
    const subscribed: string[] = []
    hub = createHub({ onSubscribe: (s) => subscribed.push(s.id) })
    const h = hub
    server = await startServer(async (req, res) => {
      await serveNode(h, {}, req, { ...requestInfo(req), method: undefined }, res)
    })
    const res = await head(`${server.url}?topic=t`)
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe(SSE_HEADERS['content-type'])
    expect(subscribed).toEqual([])
  })
})
