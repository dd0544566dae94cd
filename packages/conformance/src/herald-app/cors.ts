// CORS on a sample app's streams, over HTTP and in Chromium: a page on a listed origin reads the stream with
// `EventSource(url, { withCredentials: true })`, a page on another origin gets nothing.
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CloseOptions, Hub } from '@herald/sse-core'
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from './wait.js'

type Start = (options: {
  port?: number
  publishToken?: string
  eventsToken?: string
  allowedOrigins?: string[]
}) => Promise<{ url: string; hub: Hub; close(options?: CloseOptions): Promise<void> }>

/** The part of playwright-core's `chromium` used here (the app passes its own copy). */
export interface CorsChromium {
  launch(options: { executablePath: string; args: string[] }): Promise<{
    newPage(): Promise<{
      goto(url: string): Promise<unknown>
      evaluate<T>(fn: string): Promise<T>
    }>
    close(): Promise<void>
  }>
}

const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** A page on its own origin (an http server on 127.0.0.1) that opens `stream()` and records what arrives. */
async function pageServer(stream: () => string): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8')
    res.end(`<!doctype html><meta charset="utf-8"><script>
window.received = []; window.errors = 0; window.opened = false
const source = new EventSource(${JSON.stringify(stream())}, { withCredentials: true })
source.onopen = () => { window.opened = true }
source.onmessage = (e) => window.received.push(e.data)
source.onerror = () => { window.errors++ }
</script>`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/**
 * Registers the CORS checks of a sample app's `/events`: the framework's CORS middleware answers the
 * preflight (Last-Event-ID allowed, credentials), and its headers reach the stream and its refusals.
 */
export function describeStreamCors(name: string, start: Start, chromium?: CorsChromium): void {
  describe(`${name}: CORS on the streams`, () => {
    const cleanup: Array<() => Promise<void>> = []
    afterEach(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn()
    })
    const allowed = 'https://app.example'
    const boot = async (allowedOrigins = [allowed]) => {
      const app = await start({ port: 0, publishToken: 'p', eventsToken: 'e', allowedOrigins })
      cleanup.push(() => app.close())
      return app
    }

    it('answers the preflight for a listed origin with credentials and Last-Event-ID allowed', async () => {
      const { url } = await boot()
      const res = await fetch(`${url}/events?topic=t`, {
        method: 'OPTIONS',
        headers: {
          origin: allowed,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'last-event-id',
        },
      })
      expect(res.status).toBeLessThan(300)
      expect(res.headers.get('access-control-allow-origin')).toBe(allowed)
      expect(res.headers.get('access-control-allow-credentials')).toBe('true')
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('last-event-id')
      await res.arrayBuffer()
    })

    it('keeps the CORS headers on the stream and on its refusals; none for an origin not listed', async () => {
      const { url } = await boot()
      const controller = new AbortController()
      const stream = await fetch(`${url}/events?topic=t`, {
        headers: { origin: allowed },
        signal: controller.signal,
      })
      expect(stream.status).toBe(200)
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/)
      expect(stream.headers.get('access-control-allow-origin')).toBe(allowed)
      expect(stream.headers.get('access-control-allow-credentials')).toBe('true')
      controller.abort()
      const refused = await fetch(`${url}/events`, { headers: { origin: allowed } })
      expect(refused.status).toBe(400)
      expect(refused.headers.get('access-control-allow-origin')).toBe(allowed)
      await refused.text()
      const stranger = new AbortController()
      const other = await fetch(`${url}/events?topic=t`, {
        headers: { origin: 'https://evil.example' },
        signal: stranger.signal,
      })
      expect(other.headers.get('access-control-allow-origin')).toBeNull()
      stranger.abort()
    })

    it.skipIf(!chromium || (!existsSync(CHROMIUM) && process.env.HERALD_REQUIRE_BROWSER !== '1'))(
      'Chromium: a page on a listed origin reads the stream with credentials; another origin gets nothing',
      async () => {
        // The pages come first: their origins go on the app's list (one of them only).
        let stream = ''
        const good = await pageServer(() => stream)
        const bad = await pageServer(() => stream)
        cleanup.push(good.close, bad.close)
        const { url, hub } = await boot([good.origin])
        stream = `${url}/events?topic=cors`
        const browser = await chromium!.launch({ executablePath: CHROMIUM, args: ARGS })
        cleanup.push(() => browser.close())
        const pageGood = await browser.newPage()
        const pageBad = await browser.newPage()
        await pageGood.goto(good.origin)
        await pageBad.goto(bad.origin)
        // Both requests reach the server (a simple GET needs no preflight); only one page may read it.
        await waitFor(() => hub.subscriberCount('cors') >= 1, 'the listed page to subscribe')
        let opened = false
        for (let tries = 0; !opened; tries++) {
          if (tries === 200) throw new Error('the page on the listed origin never opened its stream')
          await new Promise((r) => setTimeout(r, 25))
          opened = await pageGood.evaluate<boolean>('window.opened')
        }
        await hub.publish('cors', { data: 'for listed origins' })
        let received: string[] = []
        for (let tries = 0; received.length === 0; tries++) {
          if (tries === 200) throw new Error('the page on the listed origin never got the event')
          await new Promise((r) => setTimeout(r, 25))
          received = await pageGood.evaluate<string[]>('window.received')
        }
        expect(received).toEqual(['for listed origins'])
        let errors = 0
        for (let tries = 0; errors === 0 && tries < 200; tries++) {
          await new Promise((r) => setTimeout(r, 25))
          errors = await pageBad.evaluate<number>('window.errors')
        }
        expect(errors).toBeGreaterThan(0)
        expect(await pageBad.evaluate<boolean>('window.opened')).toBe(false)
        expect(await pageBad.evaluate<string[]>('window.received')).toEqual([])
      },
    )
  })
}
