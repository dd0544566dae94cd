// The security rules every sample app follows, checked once over real sockets against each app's
// `start()`: who may publish, the private topic namespace, malformed request URLs, slow senders, where the
// tokens come from, and the demo page's form in Chromium. Published so that a sample app copied out of the
// repository keeps its tests.
import { existsSync } from 'node:fs'
import http, { type IncomingHttpHeaders } from 'node:http'
import net from 'node:net'
import { type CloseOptions, createHub, type Hub } from '@herald/sse-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { recordProcessTrouble } from './process-trouble.js'
import { rawRequest } from './raw-request.js'
import { openStream, type StreamClient } from './stream-client.js'
import { waitFor } from './wait.js'

/** What every sample app's `start()` accepts and returns. */
export type SampleAppStart = (options?: {
  port?: number
  hub?: Hub
  publishToken?: string
  eventsToken?: string
  allowedOrigins?: string[]
}) => Promise<{ url: string; hub: Hub; close(options?: CloseOptions): Promise<void> }>

/** The part of playwright-core's `chromium` the page check uses (the app passes its own copy). */
export interface ChromiumLike {
  launch(options: { executablePath: string; args: string[] }): Promise<{
    newPage(): Promise<{
      goto(url: string): Promise<unknown>
      fill(selector: string, value: string): Promise<void>
      click(selector: string): Promise<void>
      textContent(selector: string): Promise<string | null>
    }>
    close(): Promise<void>
  }>
}

const PUBLISH_TOKEN = 'publish-secret'
const EVENTS_TOKEN = 'events-secret'
const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium'

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** One HTTP/1.1 request with exactly these headers (Node's fetch would add or refuse some). */
function request(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      )
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Registers the sample-app security checks for `start`. */
export function describeSampleAppSecurity(
  name: string,
  start: SampleAppStart,
  chromium?: ChromiumLike,
): void {
  describe(`${name}: security`, () => {
    let app: Awaited<ReturnType<SampleAppStart>> | undefined
    const streams: StreamClient[] = []
    let trouble: ReturnType<typeof recordProcessTrouble>
    beforeAll(() => {
      trouble = recordProcessTrouble()
    })
    afterEach(async () => {
      for (const s of streams.splice(0)) s.close()
      await app?.close()
      app = undefined
    })
    afterAll(() => {
      trouble.stop()
      // Nothing an attacker sends may reach the logs.
      expect(trouble.problems).toEqual([])
    })

    async function boot(allowedOrigins?: string[]) {
      app = await start({
        hub: createHub({ heartbeatMs: 0 }),
        publishToken: PUBLISH_TOKEN,
        eventsToken: EVENTS_TOKEN,
        ...(allowedOrigins ? { allowedOrigins } : {}),
      })
      return app
    }
    const json = (topic: string, extra: Record<string, string> = {}) =>
      JSON.stringify({ topic, data: 'x', ...extra })
    const publish = (headers: Record<string, string>, body = json('demo')) =>
      request(`${app!.url}/publish`, 'POST', headers, body)
    const withToken = { 'content-type': 'application/json', authorization: `Bearer ${PUBLISH_TOKEN}` }
    async function open(path: string, headers: Record<string, string> = {}) {
      const s = await openStream(`${app!.url.replace('localhost', '127.0.0.1')}${path}`, { headers })
      streams.push(s)
      return s
    }

    it('publishes only JSON with the publish token, from its own origin or a listed one', async () => {
      const { hub, url } = await boot(['https://admin.example'])
      const own = new URL(url).origin
      const refusals: [string, Record<string, string>, number, RegExp][] = [
        // What a cross-site no-cors fetch or sendBeacon sends: no Content-Type, or text/plain.
        ['no Content-Type', { authorization: withToken.authorization }, 415, /Content-Type/],
        ['text/plain', { ...withToken, 'content-type': 'text/plain' }, 415, /Content-Type/],
        ['a foreign Origin', { ...withToken, origin: 'https://evil.example' }, 403, /Origin/],
        ['Origin null', { ...withToken, origin: 'null' }, 403, /Origin/],
        ['no token', { 'content-type': 'application/json' }, 401, /Authorization: Bearer/],
        ['a wrong token', { ...withToken, authorization: 'Bearer nope' }, 403, /token/],
      ]
      for (const [what, headers, status, reason] of refusals) {
        const answer = await publish(headers)
        expect(answer.status, what).toBe(status)
        expect(answer.headers['content-type'], what).toMatch(/^application\/json/)
        expect(answer.headers['x-content-type-options'], what).toBe('nosniff')
        expect((JSON.parse(answer.body) as { error: string }).error, what).toMatch(reason)
      }
      expect(hub.metrics().published).toBe(0)
      for (const origin of [undefined, own, 'https://admin.example']) {
        const answer = await publish(origin ? { ...withToken, origin } : withToken)
        expect(answer.status, String(origin)).toBe(200)
        expect(answer.headers['x-content-type-options']).toBe('nosniff')
        expect(answer.headers['x-powered-by']).toBeUndefined()
        expect(JSON.parse(answer.body)).toEqual({ id: expect.any(String) })
      }
      expect(hub.metrics().published).toBe(3)
    })

    it("refuses to publish the hub's own notices (reset, gap, slow-consumer)", async () => {
      const { hub } = await boot()
      for (const event of ['reset', 'gap', 'slow-consumer']) {
        const answer = await publish(withToken, json('demo', { event }))
        expect(answer.status, event).toBe(400)
        expect(answer.body).toMatch(/reserved/)
      }
      expect(hub.metrics().published).toBe(0)
    })

    it('keeps private: topics off /events and serves them on /events-private with the events token', async () => {
      const { hub } = await boot()
      for (const query of ['topic=private:ops', 'topic=demo&topic=private:ops']) {
        const refused = await open(`/events?${query}`)
        expect(refused.status, query).toBe(403)
        await refused.ended
        expect(refused.text).toMatch(/events-private/)
      }
      expect((await open('/events-private?topic=private:ops')).status).toBe(401)
      expect((await open('/events-private?topic=private:ops', { authorization: 'Bearer nope' })).status).toBe(
        403,
      )
      expect(
        (await open('/events-private?topic=private:ops', { authorization: `Bearer ${PUBLISH_TOKEN}` }))
          .status,
      ).toBe(403)
      const allowed = await open('/events-private?topic=private:ops', {
        authorization: `Bearer ${EVENTS_TOKEN}`,
      })
      expect(allowed.status).toBe(200)
      await waitFor(() => hub.subscriberCount('private:ops') === 1, 'the private subscriber')
      expect((await publish(withToken, json('private:ops', { data: 'for staff' }))).status).toBe(200)
      expect((await allowed.waitForEvents(1))[0]!.data).toBe('for staff')
      expect(hub.subscriberCount()).toBe(1)
    })

    it('answers 400 to a request URL it cannot parse, on /events and /events-private alike', async () => {
      const { hub, url } = await boot()
      for (const path of ['/events?topic=t', '/events-private?topic=t']) {
        const res = await rawRequest(
          url.replace('localhost', '127.0.0.1'),
          `GET http://a:99999${path} HTTP/1.1`,
        )
        expect(res.status, path).toBe(400)
        expect(res.body, path).not.toMatch(/\bat |node:|\.[cm]?[jt]s\b|Error/)
        expect(res.body.trim().split('\n').length, path).toBe(1)
      }
      expect(hub.subscriberCount()).toBe(0)
    })

    it('cuts a connection that sends its headers a byte a second (slowloris)', {
      timeout: 30_000,
    }, async () => {
      const { url } = await boot()
      const { port } = new URL(url)
      const socket = net.connect(Number(port), '127.0.0.1')
      const started = performance.now()
      let sent = 0
      let answer = ''
      socket.on('data', (chunk: Buffer) => {
        answer += chunk.toString('latin1')
      })
      socket.on('error', () => {})
      const closed = new Promise<number>((resolve) =>
        socket.on('close', () => resolve(performance.now() - started)),
      )
      socket.write('GET /events?topic=t HTTP/1.1\r\nHost: x\r\n')
      const drip = setInterval(() => {
        if (!socket.destroyed) socket.write(sent++ % 2 ? 'a' : 'X')
      }, 1000)
      const afterMs = await Promise.race([
        closed,
        new Promise<number>((r) => setTimeout(() => r(-1), 25_000)),
      ])
      clearInterval(drip)
      socket.destroy()
      // Node's defaults would keep it open for a minute or more.
      expect(afterMs, 'the connection was still open after 25 s').toBeGreaterThan(0)
      expect(afterMs).toBeLessThan(15_000)
      expect(sent).toBeGreaterThanOrEqual(5)
      expect(answer).toMatch(/^HTTP\/1\.1 408|^$/)
    })

    it('refuses to start in production without tokens, and makes up and prints one in development', async () => {
      const names = ['NODE_ENV', 'PUBLISH_TOKEN', 'EVENTS_TOKEN'] as const
      const saved = names.map((n) => process.env[n])
      const log = console.log
      const printed: string[] = []
      try {
        delete process.env.PUBLISH_TOKEN
        delete process.env.EVENTS_TOKEN
        process.env.NODE_ENV = 'production'
        await expect(start({ port: 0 })).rejects.toThrow(/PUBLISH_TOKEN is not set/)
        process.env.PUBLISH_TOKEN = 'from-env'
        await expect(start({ port: 0 })).rejects.toThrow(/EVENTS_TOKEN is not set/)
        process.env.NODE_ENV = 'development'
        console.log = (...args: unknown[]) => void printed.push(args.join(' '))
        app = await start({ port: 0, hub: createHub({ heartbeatMs: 0 }) })
      } finally {
        console.log = log
        names.forEach((n, i) => {
          if (saved[i] === undefined) delete process.env[n]
          else process.env[n] = saved[i]
        })
      }
      expect(printed).toHaveLength(1)
      expect(printed[0]).not.toMatch(/PUBLISH_TOKEN=/)
      const made = /EVENTS_TOKEN=(\S+)/.exec(printed[0]!)![1]!
      expect(made.length).toBeGreaterThanOrEqual(20)
      const headers = { 'content-type': 'application/json', authorization: 'Bearer from-env' }
      expect((await publish(headers)).status).toBe(200)
      expect((await open('/events-private?topic=t', { authorization: `Bearer ${made}` })).status).toBe(200)
    })

    it.skipIf(!chromium || (!existsSync(CHROMIUM) && process.env.HERALD_REQUIRE_BROWSER !== '1'))(
      "publishes from the demo page's form with the token pasted in",
      async () => {
        const { hub, url } = await boot()
        const browser = await chromium!.launch({
          executablePath: CHROMIUM,
          args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
        })
        try {
          const page = await browser.newPage()
          await page.goto(url)
          await waitFor(() => hub.subscriberCount('demo') === 1, 'the page to subscribe')
          await page.fill('input[name=token]', PUBLISH_TOKEN)
          await page.fill('input[name=data]', 'hello from the form')
          await page.click('#publish button')
          await waitFor(() => hub.metrics().published === 1, 'the form to publish')
          let list = ''
          for (let tries = 0; !list.includes('hello from the form'); tries++) {
            if (tries === 100) throw new Error(`the event never showed on the page: ${JSON.stringify(list)}`)
            await new Promise((resolve) => setTimeout(resolve, 50))
            list = (await page.textContent('#events')) ?? ''
          }
          expect(await page.textContent('#status')).toBe('connected')
        } finally {
          await browser.close()
        }
      },
    )
  })
}
