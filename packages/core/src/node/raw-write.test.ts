import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, OutgoingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import net from 'node:net'
import tls from 'node:tls'
import { listen, requestInfo, type TestServer, waitFor } from '@herald/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { createHub } from '../hub/hub.js'
import type { Hub } from '../types.js'
import { serveNode } from './serve.js'
import { createNodeSink, writeStreamHead } from './sink.js'

/**
 * A reader of one HTTP/1.1 response off a raw socket that checks the chunked framing byte for byte, so a
 * frame written straight to the socket that Node's own framing would not have produced fails the test.
 */
class ChunkedReader {
  private buf = Buffer.alloc(0)
  head: string | undefined
  body = ''
  ended = false
  /** Bytes after the last chunk: the start of the next response on the same connection. */
  rest = Buffer.alloc(0)

  push(data: Buffer): void {
    if (this.ended) {
      this.rest = Buffer.concat([this.rest, data])
      return
    }
    this.buf = Buffer.concat([this.buf, data])
    if (this.head === undefined) {
      const end = this.buf.indexOf('\r\n\r\n')
      if (end === -1) return
      this.head = this.buf.subarray(0, end).toString('latin1')
      this.buf = this.buf.subarray(end + 4)
    }
    for (;;) {
      const line = this.buf.indexOf('\r\n')
      if (line === -1) return
      const sizeText = this.buf.subarray(0, line).toString('latin1')
      if (!/^[0-9a-f]+$/.test(sizeText)) throw new Error(`bad chunk size line ${JSON.stringify(sizeText)}`)
      const size = Number.parseInt(sizeText, 16)
      const end = line + 2 + size
      if (this.buf.length < end + 2) return
      if (this.buf[end] !== 13 || this.buf[end + 1] !== 10)
        throw new Error(`chunk of ${size} not followed by CRLF`)
      if (size === 0) {
        this.ended = true
        this.rest = this.buf.subarray(end + 2)
        this.buf = Buffer.alloc(0)
        return
      }
      this.body += this.buf.subarray(line + 2, end).toString('utf8')
      this.buf = this.buf.subarray(end + 2)
    }
  }
}

/** Opens a keep-alive HTTP/1.1 connection and sends `GET path`; the reader checks what comes back. */
function openRaw(server: TestServer, path: string, version = '1.1') {
  const url = new URL(server.url)
  const socket = net.connect(Number(url.port), url.hostname)
  const reader = new ChunkedReader()
  let raw = ''
  socket.on('data', (d: Buffer) => {
    raw += d.toString('latin1')
    reader.push(d)
  })
  socket.on('error', () => {})
  socket.write(`GET ${path} HTTP/${version}\r\nHost: ${url.host}\r\n\r\n`)
  return { socket, reader, raw: () => raw }
}

describe('Node sink: events written straight to the socket, chunk-framed once', () => {
  let hub: Hub | undefined
  let server: TestServer | undefined
  afterEach(async () => {
    await hub?.close()
    await server?.close()
    hub = undefined
    server = undefined
  })

  async function serve(handle?: (req: IncomingMessage, res: ServerResponse) => void) {
    hub = createHub({ epoch: 'raw', heartbeatMs: 0 })
    const h = hub
    server = await listen(
      createServer(
        handle ??
          ((req, res) => {
            void serveNode(h, {}, req, requestInfo(req), res)
          }),
      ),
    )
    return server
  }

  it('frames small, shared and oversized events exactly, in order, on every stream', async () => {
    const s = await serve()
    const clients = [openRaw(s, '/?topic=t'), openRaw(s, '/?topic=t'), openRaw(s, '/?topic=t')]
    await waitFor(() => hub!.subscriberCount() === 3, 'three subscribers')
    const big = 'b'.repeat(40_000)
    let expected = ''
    // In one task (coalesced per stream), then across tasks (one shared frame per event), with an event
    // bigger than the frame copy limit between small ones, and a multi-byte character.
    const first = ['one', 'two', big, 'three']
    const ids = await Promise.all(first.map((data) => hub!.publish('t', { data })))
    first.forEach((data, i) => {
      expected += `id: ${ids[i]}\ndata: ${data}\n\n`
    })
    for (const data of ['é four', big, 'five']) {
      await new Promise((r) => setImmediate(r))
      const id = await hub!.publish('t', { data })
      expected += `id: ${id}\ndata: ${data}\n\n`
    }
    for (const c of clients) await waitFor(() => c.reader.body.length >= expected.length, 'all events')
    for (const c of clients) {
      expect(c.reader.head).toMatch(/transfer-encoding: chunked/i)
      expect(c.reader.body).toBe(expected)
      c.socket.destroy()
    }
  })

  it('hands each event to the socket in one write of the framed bytes', async () => {
    const writes: string[] = []
    hub = createHub({ epoch: 'raw', heartbeatMs: 0 })
    const h = hub
    server = await listen(
      createServer((req, res) => {
        void serveNode(h, {}, req, requestInfo(req), res).then(() => {
          const socket = res.socket!
          const write = socket.write
          socket.write = function (this: net.Socket, chunk: Uint8Array, ...rest: never[]) {
            writes.push(Buffer.from(chunk).toString('latin1'))
            return write.call(this, chunk, ...rest)
          } as typeof socket.write
        })
      }),
    )
    const c = openRaw(server, '/?topic=t')
    await waitFor(() => h.subscriberCount() === 1, 'subscriber')
    await new Promise((r) => setTimeout(r, 20))
    const id = await h.publish('t', { data: 'whole' })
    await waitFor(() => c.reader.body.includes('whole'), 'event')
    const frame = `id: ${id}\ndata: whole\n\n`
    expect(writes).toEqual([`${frame.length.toString(16)}\r\n${frame}\r\n`])
    c.socket.destroy()
  })

  it('ends with the last chunk and leaves the connection usable for the next request', async () => {
    let served = 0
    hub = createHub({ epoch: 'raw', heartbeatMs: 0 })
    const h = hub
    server = await listen(
      createServer((req, res) => {
        if (served++ === 0) void serveNode(h, {}, req, requestInfo(req), res)
        else res.end('second answer')
      }),
    )
    const c = openRaw(server, '/?topic=t')
    await waitFor(() => h.subscriberCount() === 1, 'subscriber')
    const id = await h.publish('t', { data: 'before the end' })
    await waitFor(() => c.reader.body.includes('before the end'), 'event')
    await h.close()
    await waitFor(() => c.reader.ended, 'last chunk')
    expect(c.reader.body).toContain(`id: ${id}\ndata: before the end\n\n`)
    c.socket.write(`GET /again HTTP/1.1\r\nHost: x\r\n\r\n`)
    await waitFor(() => c.reader.rest.toString('latin1').endsWith('second answer'), 'second response')
    expect(c.reader.rest.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    c.socket.destroy()
  })

  it('writes unframed bytes to an HTTP/1.0 client, which has no chunked encoding', async () => {
    const s = await serve()
    const c = openRaw(s, '/?topic=t', '1.0')
    await waitFor(() => hub!.subscriberCount() === 1, 'subscriber')
    const id = await hub!.publish('t', { data: 'plain' })
    await waitFor(() => c.raw().includes('data: plain'), 'event')
    const text = c.raw()
    expect(text).not.toMatch(/transfer-encoding/i)
    expect(text.slice(text.indexOf('\r\n\r\n') + 4)).toBe(`id: ${id}\ndata: plain\n\n`)
    c.socket.destroy()
  })

  it('reports a full socket, then drains it with nothing lost or repeated', async () => {
    let sink: ReturnType<typeof createNodeSink> | undefined
    server = await listen(
      createServer((_req, res) => {
        writeStreamHead(res, { 'content-type': 'text/event-stream' })
        sink = createNodeSink(res)
      }),
    )
    const c = openRaw(server, '/')
    await waitFor(() => sink !== undefined && c.reader.head !== undefined, 'stream open')
    c.socket.pause()
    const s = sink!
    let drained = 0
    s.onDrain(() => drained++)
    let expected = ''
    let n = 0
    // Distinct events until the socket says it is full (the client reads nothing meanwhile).
    for (; n < 100_000; n++) {
      const line = `data: ${n} ${'x'.repeat(1000)}\n\n`
      expected += line
      if (!s.write(new TextEncoder().encode(line))) break
    }
    expect(n).toBeLessThan(100_000)
    expect(s.pending).toBeGreaterThan(0)
    c.socket.resume()
    await waitFor(() => drained === 1, 'drain')
    expect(s.write(new TextEncoder().encode('data: after\n\n'))).toBe(true)
    expected += 'data: after\n\n'
    await waitFor(() => c.reader.body.length >= expected.length, 'everything')
    expect(c.reader.body).toBe(expected)
    s.end()
    await waitFor(() => c.reader.ended, 'last chunk')
    c.socket.destroy()
  })

  it('keeps calling a foreign res.write wrapper for every event', async () => {
    const seen: number[] = []
    hub = createHub({ epoch: 'raw', heartbeatMs: 0 })
    const h = hub
    server = await listen(
      createServer((req, res) => {
        const write = res.write as (this: ServerResponse, chunk: Uint8Array) => boolean
        res.write = function (this: ServerResponse, chunk: Uint8Array) {
          seen.push(chunk.length)
          return write.call(this, chunk)
        } as typeof res.write
        void serveNode(h, {}, req, requestInfo(req), res)
      }),
    )
    const c = openRaw(server, '/?topic=t')
    await waitFor(() => h.subscriberCount() === 1, 'subscriber')
    await h.publish('t', { data: 'a' })
    await new Promise((r) => setImmediate(r))
    await h.publish('t', { data: 'b' })
    await waitFor(() => c.reader.body.includes('data: b'), 'events')
    expect(seen.length).toBeGreaterThanOrEqual(2)
    c.socket.destroy()
  })

  it("keeps going through Node's write when its prototype was patched (as tracing agents do)", async () => {
    const original = OutgoingMessage.prototype.write
    let calls = 0
    OutgoingMessage.prototype.write = function (this: OutgoingMessage, ...args: never[]) {
      calls++
      return (original as (...a: never[]) => boolean).apply(this, args)
    } as typeof original
    try {
      const s = await serve()
      const c = openRaw(s, '/?topic=t')
      await waitFor(() => hub!.subscriberCount() === 1, 'subscriber')
      const before = calls
      await hub!.publish('t', { data: 'traced' })
      await waitFor(() => c.reader.body.includes('traced'), 'event')
      expect(calls - before).toBe(1)
      c.socket.destroy()
    } finally {
      OutgoingMessage.prototype.write = original
    }
  })

  it('frames events the same way over TLS (HTTPS), one socket write each', async () => {
    const fixtures = new URL('../../test-fixtures/', import.meta.url)
    const key = readFileSync(new URL('localhost.key', fixtures))
    const cert = readFileSync(new URL('localhost.crt', fixtures))
    hub = createHub({ epoch: 'raw', heartbeatMs: 0 })
    const h = hub
    const writes: number[] = []
    server = await listen(
      createHttpsServer({ key, cert }, (req, res) => {
        void serveNode(h, {}, req, requestInfo(req), res).then(() => {
          const socket = res.socket!
          const write = socket.write
          socket.write = function (this: net.Socket, chunk: Uint8Array, ...rest: never[]) {
            writes.push(chunk.length)
            return write.call(this, chunk, ...rest)
          } as typeof socket.write
        })
      }) as never,
    )
    const port = Number(new URL(server.url).port)
    const socket = tls.connect({ port, host: '127.0.0.1', ca: cert, servername: 'localhost' })
    const reader = new ChunkedReader()
    socket.on('data', (d: Buffer) => reader.push(d))
    socket.on('error', () => {})
    socket.write('GET /?topic=t HTTP/1.1\r\nHost: localhost\r\n\r\n')
    await waitFor(() => h.subscriberCount() === 1, 'subscriber')
    await new Promise((r) => setTimeout(r, 20))
    let expected = ''
    for (const data of ['secure one', 'x'.repeat(30_000), 'secure two']) {
      const id = await h.publish('t', { data })
      expected += `id: ${id}\ndata: ${data}\n\n`
      await new Promise((r) => setImmediate(r))
    }
    await waitFor(() => reader.body.length >= expected.length, 'all events')
    expect(reader.body).toBe(expected)
    // The small events went out in one write each; the big one framed around itself (three, corked).
    expect(writes.length).toBe(5)
    socket.destroy()
  })
})
