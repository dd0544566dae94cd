// The browser file in a real Chromium against a sample app: a custom header on /events-private (which
// EventSource cannot send), resume across a server restart with nothing lost or doubled, and the
// immediate reconnect when the network comes back or the page becomes visible.
import { BrowserPool, SkipCase } from '@herald/sse-conformance'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleBrowser } from '../scripts/browser-bundle.js'
import { EVENTS_TOKEN, restartable, SAMPLE_APPS, UNAUTHORIZED, waitFor } from './helpers.js'

const { start } = SAMPLE_APPS.find((a) => a.name === 'hono-app')!
const pool = new BrowserPool()
let browser: Browser | undefined
let skipped: string | undefined
let bundle = ''

beforeAll(async () => {
  bundle = (await bundleBrowser()).code
  try {
    browser = await pool.get()
  } catch (error) {
    if (!(error instanceof SkipCase)) throw error
    skipped = error.message
    console.warn(`client browser tests SKIPPED: ${skipped}`)
  }
})
afterAll(() => pool.close())

/** What the page keeps on `window.log`. */
interface PageLog {
  events: string[]
  opens: number
  reconnects: { code: string; delayMs: number }[]
  error: { name: string; status: number; body: string; isHttpError: boolean } | null
}

/**
 * A blank page on the app's origin that imports the browser file (served at /client.js by the test, as a
 * site would serve it) and runs `script` with the module as `herald` and a fresh `log`.
 */
async function openPage(app: { url: string }, script: string): Promise<Page> {
  const page = await browser!.newPage()
  await page.route(`${app.url}/client.js`, (route) =>
    route.fulfill({ body: bundle, contentType: 'text/javascript; charset=utf-8' }),
  )
  await page.route(`${app.url}/test.html`, (route) =>
    route.fulfill({
      contentType: 'text/html; charset=utf-8',
      body: `<!doctype html><title>client</title><script type="module">
        import * as herald from '/client.js'
        const log = (window.log = { events: [], opens: 0, reconnects: [], error: null })
        ${script}
      </script>`,
    }),
  )
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(error.message))
  await page.goto(`${app.url}/test.html`)
  await page.waitForFunction(() => 'log' in window)
  expect(problems).toEqual([])
  return page
}

const readLog = (page: Page) => page.evaluate(() => (window as unknown as { log: PageLog }).log)

async function poll(page: Page, what: string, check: (log: PageLog) => boolean, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const last = await readLog(page)
    if (check(last)) return last
    if (performance.now() > deadline)
      throw new Error(`timed out waiting for ${what}; the page has ${JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/**
 * A Chromium test: a sample app on a hub that outlives restarts, a page on its origin running `script`,
 * then `check(page, app)`. Skipped (with the reason) when there is no Chromium.
 */
function inChromium(
  title: string,
  script: string,
  check: (page: Page, app: Awaited<ReturnType<typeof restartable>>) => Promise<void>,
) {
  it(title, async (ctx) => {
    if (skipped) ctx.skip(skipped)
    const app = await restartable(start)
    try {
      const page = await openPage(app, script)
      await check(page, app)
      await page.close()
    } finally {
      await app.close()
    }
  })
}

describe('the browser file in Chromium', () => {
  inChromium(
    'sends Authorization to /events-private; without it, stops with a HeraldHttpError (401 and its body)',
    `const client = herald.connect('/events-private', {
      topics: 'feed',
      headers: { authorization: 'Bearer ${EVENTS_TOKEN}' },
      parse: { tick: 'json' },
      onOpen: () => log.opens++,
    })
    client.on('tick', (data) => log.events.push(data.n))
    herald.connect('/events-private', { topics: 'feed' }).closed.catch((e) => {
      log.error = { name: e.name, status: e.status, body: e.body, isHttpError: e instanceof herald.HeraldHttpError }
    })`,
    async (page, { hub }) => {
      await waitFor(() => hub.subscriberCount('feed') === 1, 'the page to subscribe')
      for (let n = 1; n <= 3; n++) await hub.publish('feed', { event: 'tick', data: JSON.stringify({ n }) })
      const log = await poll(
        page,
        'three ticks and the refusal',
        (l) => l.events.length === 3 && l.error !== null,
      )
      expect(log.events).toEqual([1, 2, 3])
      expect(log.error).toEqual({
        name: 'HeraldHttpError',
        status: 401,
        body: UNAUTHORIZED,
        isHttpError: true,
      })
    },
  )

  inChromium(
    'resumes across a server restart on the same port with nothing lost or doubled',
    `herald.connect('/events-private', {
      topics: 'feed',
      headers: { authorization: 'Bearer ${EVENTS_TOKEN}' },
      reconnect: { initialDelayMs: 100 },
      onOpen: () => log.opens++,
    }).on('message', (data) => log.events.push(data))`,
    async (page, app) => {
      const { hub } = app
      await waitFor(() => hub.subscriberCount('feed') === 1, 'the page to subscribe')
      const send = async (from: number, to: number) => {
        for (let n = from; n <= to; n++) await hub.publish('feed', { data: `browser ${n}` })
      }
      await send(1, 3)
      await poll(page, 'events 1-3', (l) => l.events.length === 3)
      await app.stop() // streams cut; the hub and its history live on
      await send(4, 6)
      await app.restart()
      await poll(page, 'the replay of 4-6', (l) => l.events.length === 6, 15_000)
      await send(7, 8)
      await poll(page, 'events 7-8', (l) => l.events.length === 8)
      await new Promise((r) => setTimeout(r, 200)) // a duplicate would show up now
      const log = await readLog(page)
      expect(log.events).toEqual(Array.from({ length: 8 }, (_, i) => `browser ${i + 1}`))
      expect(log.opens).toBe(2)
      expect(hub.metrics().replayed).toBe(3)
    },
  )

  inChromium(
    'reconnects at once on `online` and on becoming visible, instead of waiting out a long backoff',
    // A 60 s reconnect delay: within this test, only the page events can bring the client back.
    `herald.connect('/events', {
      topics: 'feed',
      reconnect: { initialDelayMs: 60000, maxDelayMs: 60000 },
      onOpen: () => log.opens++,
      onReconnecting: (r) => log.reconnects.push({ code: r.reason.code, delayMs: r.delayMs }),
    }).on('message', (data) => log.events.push(data))`,
    async (page, app) => {
      const { hub } = app
      await waitFor(() => hub.subscriberCount('feed') === 1, 'the page to subscribe')
      await hub.publish('feed', { data: 'one' })
      await poll(page, 'the first event', (l) => l.events.length === 1)

      // Connected, and the network changes: the old connection may be dead, so reconnect now.
      await page.evaluate(() => window.dispatchEvent(new Event('online')))
      let log = await poll(page, 'a reconnect', (l) => l.opens === 2)
      expect(log.reconnects).toEqual([{ code: 'ERR_SSE_NETWORK_CHANGED', delayMs: 0 }])

      // Server down: the client waits 60 s. The server comes back, then the network does.
      await app.stop()
      await poll(page, 'the loss', (l) => l.reconnects.length === 2)
      await app.restart()
      await hub.publish('feed', { data: 'two' })
      await page.evaluate(() => window.dispatchEvent(new Event('online')))
      log = await poll(page, 'the reconnect on online', (l) => l.opens === 3 && l.events.length === 2)
      expect(log.reconnects[1]?.delayMs).toBe(60_000)

      // Again, and this time the page comes back to the foreground.
      await app.stop()
      await poll(page, 'the second loss', (l) => l.reconnects.length === 3)
      await app.restart()
      await hub.publish('feed', { data: 'three' })
      await page.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true })
        document.dispatchEvent(new Event('visibilitychange'))
      })
      log = await poll(
        page,
        'the reconnect on visibilitychange',
        (l) => l.opens === 4 && l.events.length === 3,
      )
      expect(log.events).toEqual(['one', 'two', 'three'])
    },
  )
})
