import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
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

  it('refuses bad timings with a typed error naming the option', async () => {
    const hub = createHub()
    const server = createServer()
    await expect(shutdown(server, hub, { quietMs: -1 })).rejects.toThrow(HeraldConfigError)
    await expect(shutdown(server, hub, { graceMs: 1.5 })).rejects.toThrow(/graceMs/)
    expect(hub.closed).toBe(false)
    await hub.close()
  })
})
