// The Node sink writes past compression()'s res.write/res.flush wrappers once it has stepped aside for an
// event stream (`no-transform`). These tests hold it to that, and to nothing more: a stream compression
// does encode, and a res.write replacement of another middleware, keep being called on every event.
import { createServer, type ServerResponse } from 'node:http'
import { createHub, type Hub } from '@herald/sse-core'
import { listen, openStream, type TestServer, waitFor } from '@herald/test-utils'
import compression from 'compression'
import express, { type RequestHandler } from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { sse } from '../src/index.js'

let server: TestServer | undefined
let hub: Hub | undefined
afterEach(async () => {
  await hub?.close()
  await server?.close()
  server = undefined
  hub = undefined
})

/** Serves `/events` behind compression() and `extra` middleware; `responses` collects the stream's responses. */
async function start(extra: RequestHandler[] = []) {
  hub = createHub()
  const responses: ServerResponse[] = []
  const app = express()
  app.use(compression())
  for (const m of extra) app.use(m)
  app.use((_req, res, next) => {
    responses.push(res)
    next()
  })
  app.get('/events', sse(hub))
  server = await listen(createServer(app))
  return { hub, responses, url: `${server.url}events?topic=t` }
}

/** Replaces `res.flush` with a counter (the sink looks it up on each write when it goes through compression). */
function countFlushes(res: ServerResponse): { calls: number } {
  const counter = { calls: 0 }
  const original = (res as { flush?: () => void }).flush
  ;(res as { flush?: () => void }).flush = () => {
    counter.calls++
    original?.()
  }
  return counter
}

async function publish(h: Hub, data: string) {
  await h.publish('t', { data })
}

describe('Express behind compression(): the write fast path', () => {
  it('writes past compression() once it stepped aside: events arrive unencoded, res.flush is not called', async () => {
    const { hub, responses, url } = await start()
    const client = await openStream(url, { headers: { 'accept-encoding': 'gzip, deflate, br' } })
    expect(client.status).toBe(200)
    expect(client.headers['content-encoding']).toBeUndefined()
    await publish(hub, 'first')
    await client.waitForEvents(1)
    const flushes = countFlushes(responses[0]!)
    for (const data of ['a', 'b', 'c']) await publish(hub, data)
    const events = await client.waitForEvents(4)
    expect(events.map((e) => e.data)).toEqual(['first', 'a', 'b', 'c'])
    expect(flushes.calls).toBe(0)
    client.close()
  })

  it('keeps writing through compression() and flushing each event when it does encode the stream', async () => {
    // An app middleware that drops `no-transform` on the way out: compression() then gzips the stream.
    const dropNoTransform: RequestHandler = (_req, res, next) => {
      const writeHead = res.writeHead
      res.writeHead = function (this: typeof res, status: number, headers?: Record<string, string>) {
        const rest = { ...headers, 'cache-control': 'no-cache' }
        return writeHead.call(this, status, rest)
      } as typeof res.writeHead
      next()
    }
    const { hub, responses, url } = await start([dropNoTransform])
    // fetch decodes gzip: raw bytes in a stream declared gzip would fail to decode.
    const response = await fetch(url, { headers: { accept: 'text/event-stream', 'accept-encoding': 'gzip' } })
    expect(response.headers.get('content-encoding')).toBe('gzip')
    await waitFor(() => responses.length === 1, 'the stream to reach the handler')
    const flushes = countFlushes(responses[0]!)
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    for (const data of ['a', 'b', 'c']) await publish(hub, data)
    while ((text.match(/^data: /gm) ?? []).length < 3) {
      const { value, done } = await reader.read()
      if (done) break
      text += value
    }
    expect(text).toContain('data: a\n\n')
    expect(text).toContain('data: c\n\n')
    expect(flushes.calls).toBe(3)
    await reader.cancel()
  })

  it('keeps calling a res.write replacement that is not compression()’s on every event', async () => {
    const written: string[] = []
    const recordWrites: RequestHandler = (_req, res, next) => {
      const write = res.write
      res.write = function (this: typeof res, chunk: unknown, ...rest: unknown[]) {
        written.push(Buffer.from(chunk as Uint8Array).toString())
        return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
      } as typeof res.write
      next()
    }
    const { hub, url } = await start([recordWrites])
    const client = await openStream(url)
    for (const data of ['a', 'b']) await publish(hub, data)
    await client.waitForEvents(2)
    expect(written.join('')).toContain('data: a\n\n')
    expect(written.join('')).toContain('data: b\n\n')
    client.close()
  })
})
