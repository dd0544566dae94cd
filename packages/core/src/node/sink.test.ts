import { connect, createServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import { listen, requestInfo } from '@herald/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { createHub } from '../hub/hub.js'
import type { Hub } from '../types.js'
import { serveNode } from './serve.js'

describe('serveNode over HTTP/2 (h2c)', () => {
  let hub: Hub | undefined
  let close: (() => Promise<void>) | undefined
  afterEach(async () => {
    await hub?.close()
    await close?.()
  })

  /** An h2c server running `handle` and a client session connected to it; `close` ends both. */
  async function h2Client(handle: (req: Http2ServerRequest, res: Http2ServerResponse) => void) {
    const server = await listen(createServer(handle))
    const client = connect(server.url)
    close = () => {
      client.destroy()
      return server.close()
    }
    return client
  }

  it('streams events on an Http2ServerResponse without connection-specific headers', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.message)
    process.on('warning', onWarning)
    hub = createHub({ epoch: 'h2' })
    const h = hub
    const client = await h2Client((req, res) => {
      void serveNode(
        h,
        { headers: { 'access-control-allow-origin': '*' } },
        req,
        requestInfo(req as never),
        res,
      )
    })
    const req = client.request({ ':path': '/?topic=t', 'last-event-id': 'h2-0' })
    const headers = await new Promise<Record<string, unknown>>((r) => req.on('response', r))
    expect(headers[':status']).toBe(200)
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(headers['access-control-allow-origin']).toBe('*')
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => {
      text += c
    })
    hub.publish('t', { data: 'over h2' })
    const deadline = Date.now() + 10_000
    while (!text.includes('over h2') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    expect(text).toBe('id: h2-1\ndata: over h2\n\n')
    req.close()
    while (hub.subscriberCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    expect(hub.subscriberCount()).toBe(0)
    process.off('warning', onWarning)
    expect(warnings.filter((w) => /connection|transfer-encoding/i.test(w))).toEqual([])
  })

  it('hub.close() resolves once the ended HTTP/2 stream has sent its last bytes, without polling', async () => {
    hub = createHub({ epoch: 'h2' })
    const h = hub
    const client = await h2Client((req, res) => {
      void serveNode(h, {}, req, requestInfo(req as never), res)
    })
    const req = client.request({ ':path': '/?topic=t' })
    await new Promise((r) => req.on('response', r))
    let received = 0
    req.on('data', (c: Buffer) => {
      received += c.length
    })
    const ended = new Promise((r) => req.on('end', r))
    // More than the HTTP/2 flow-control window: the server cannot hand it all over at once.
    hub.publish('t', { data: 'x'.repeat(200_000) })
    let resolved = false
    const closing = hub.close().then(() => {
      resolved = true
    })
    await ended
    expect(received).toBeGreaterThan(200_000)
    await new Promise((r) => setImmediate(r))
    expect(resolved).toBe(true)
    await closing
  })
})
