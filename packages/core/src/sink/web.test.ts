import { describe, expect, it } from 'vitest'
import { createWebSink } from './web.js'

const bytes = (n: number) => new Uint8Array(n).fill(97)

describe('createWebSink', () => {
  it('reports full at the high-water mark and drains when the reader takes bytes', async () => {
    const { sink, stream } = createWebSink({ highWaterMark: 100 })
    let drains = 0
    sink.onDrain(() => drains++)
    expect(sink.write(bytes(60))).toBe(true)
    expect(sink.pending).toBe(60)
    expect(sink.write(bytes(60))).toBe(false)
    expect(sink.pending).toBe(120)
    const reader = stream.getReader()
    expect((await reader.read()).value).toHaveLength(60)
    expect((await reader.read()).value).toHaveLength(60)
    await new Promise((r) => setTimeout(r, 0))
    expect(sink.pending).toBe(0)
    expect(drains).toBe(1)
    expect(sink.write(bytes(10))).toBe(true)
  })

  it('closes once when the stream is cancelled (the client went away)', async () => {
    const { sink, stream } = createWebSink()
    let closes = 0
    sink.onClose(() => closes++)
    await stream.cancel()
    expect(sink.closed).toBe(true)
    expect(closes).toBe(1)
    expect(sink.write(bytes(1))).toBe(false)
    sink.end()
    expect(closes).toBe(1)
  })

  it('end() delivers what was written, then closes the stream', async () => {
    const { sink, stream } = createWebSink()
    sink.write(new TextEncoder().encode('data: a\n\n'))
    sink.end()
    expect(sink.closed).toBe(true)
    expect(await new Response(stream).text()).toBe('data: a\n\n')
    expect(sink.pending).toBe(0)
  })

  it('abort() drops unsent bytes and errors the stream', async () => {
    const { sink, stream } = createWebSink()
    sink.write(bytes(10))
    sink.abort()
    await expect(new Response(stream).text()).rejects.toThrow()
    expect(sink.pending).toBe(0)
  })
})
