import { stat } from 'node:fs'
import { createServer } from 'node:http'
import { type AddressInfo, connect, type Socket } from 'node:net'
import { openStream, requestInfo } from '@herald/test-utils'
import { describe, expect, it } from 'vitest'
import { HeraldConfigError } from '../errors.js'
import { createHub } from '../hub/hub.js'
import { serveNode } from './serve.js'
import { shutdown } from './shutdown.js'

describe('shutdown(server, hub)', () => {
  it('ends streams with the closing frames, answers latecomers 503 with Retry-After, then stops listening', async () => {
    const hub = createHub({ heartbeatMs: 0 })
    const server = createServer((req, res) => void serveNode(hub, {}, req, requestInfo(req), res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const streams = await Promise.all(Array.from({ length: 20 }, () => openStream(`${base}/?topic=t`)))
    hub.publish('t', { data: 'live' })
    await Promise.all(streams.map((s) => s.waitForEvents(1)))

    const done = shutdown(server, hub, {
      event: { event: 'shutdown', data: 'bye' },
      retryMs: 2500,
      quietMs: 1000,
    })
    await Promise.all(streams.map((s) => s.ended))
    for (const s of streams) {
      expect(s.events.map((e) => e.event ?? 'message')).toEqual(['message', 'shutdown'])
      expect(s.text.endsWith('retry: 2500\n\n')).toBe(true)
    }
    // The streams are gone, the server still answers (until 1 s without a new connection): no reset.
    const late = await fetch(`${base}/?topic=t`)
    expect(late.status).toBe(503)
    expect(late.headers.get('retry-after')).toBe('3')
    await late.text()
    await done
    expect(server.listening).toBe(false)
    await expect(fetch(`${base}/?topic=t`)).rejects.toThrow()
  })

  it('answers a connection that queued while the loop was busy as the quiet period ran out', async () => {
    const hub = createHub({ heartbeatMs: 0 })
    const server = createServer((req, res) => void serveNode(hub, {}, req, requestInfo(req), res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const done = shutdown(server, hub, { quietMs: 100, graceMs: 3000 })
    // The kernel completes this connection at once; the server accepts it when the loop next polls. The
    // loop is held past the quiet period inside an I/O callback (as ending thousands of streams holds
    // it), so on its next turn the expired timer runs before that poll.
    const socket = await new Promise<Socket>((resolve) =>
      stat('.', () => {
        const client = connect(port, '127.0.0.1')
        process.nextTick(() => {
          const until = performance.now() + 250
          while (performance.now() < until) {}
          resolve(client)
        })
      }),
    )
    let answer = ''
    let error: string | undefined
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      answer += chunk
    })
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message
    })
    socket.end('GET /?topic=t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    await new Promise((resolve) => socket.once('close', resolve))
    expect(error).toBeUndefined()
    expect(answer).toMatch(/^HTTP\/1\.1 503 /)
    expect(answer).toMatch(/\r\nretry-after: \d+\r\n/i)
    await done
    expect(server.listening).toBe(false)
  })

  it('refuses bad timings with a typed error naming the option', async () => {
    const hub = createHub()
    const server = createServer()
    await expect(shutdown(server, hub, { quietMs: -1 })).rejects.toThrow(HeraldConfigError)
    await expect(shutdown(server, hub, { graceMs: 1.5 })).rejects.toThrow(/graceMs/)
    expect(hub.closed).toBe(false)
    await hub.close()
  })
})
