// Check 10: a real browser. Chromium opens the page, its EventSource receives events, the server restarts
// on the same port, and the browser (sending Last-Event-ID by itself) resumes with nothing lost or doubled.
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { Hub, Subscription } from '@herald/sse-core'
import type { Page } from 'playwright-core'
import { waitUntil } from '../sse.js'
import type { CaseContext, ConformanceCase } from '../target.js'
import { assertNone, firstDifference, sleep } from './util.js'

/** The topic the sample page subscribes to. */
export const PAGE_TOPIC = 'demo'

// Wraps the page's EventSource before any page script runs, to record what it dispatches.
const INSTRUMENT = `(() => {
  const Native = window.EventSource
  const log = (window.__heraldConformance = { opens: 0, errors: 0, messages: [] })
  window.EventSource = class extends Native {
    constructor(url, init) {
      super(url, init)
      this.addEventListener('open', () => log.opens++)
      this.addEventListener('error', () => log.errors++)
      this.addEventListener('message', (e) => log.messages.push({ data: e.data, id: e.lastEventId }))
    }
  }
})()`

// `hub` with a close() that ends the open streams but keeps the hub (and its history) alive.
function keepOpen(hub: Hub, subscriptions: Set<Subscription>): Hub {
  const close = async () => {
    for (const s of [...subscriptions]) s.close()
  }
  return new Proxy(hub, {
    get(target, key) {
      if (key === 'close') return close
      const value = Reflect.get(target, key, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

interface PageLog {
  opens: number
  errors: number
  messages: { data: string; id: string }[]
}

const readLog = (page: Page) =>
  page.evaluate(() => (window as unknown as { __heraldConformance?: PageLog }).__heraldConformance ?? null)

// Opens the page with the EventSource recorder installed and waits until it is connected.
async function openPage(ctx: CaseContext, url: URL) {
  const browser = await ctx.browser()
  const page = await browser.newPage()
  ctx.defer(() => page.close())
  const pageErrors: string[] = []
  page.on('pageerror', (error) => pageErrors.push(error.message))
  await page.addInitScript(INSTRUMENT)
  await page.goto(url.href)
  const poll = async (what: string, check: (log: PageLog) => boolean, timeoutMs: number) => {
    let last: PageLog | null = null
    const deadline = performance.now() + timeoutMs
    for (;;) {
      last = await readLog(page)
      if (last && check(last)) return last
      if (performance.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}: the page has ${last?.messages.length ?? 0} ` +
            `events (${last?.messages.map((m) => m.data).join(', ') || 'none'}), ${last?.opens ?? 0} opens` +
            (last ? '' : '; the page opened no EventSource'),
        )
      }
      await sleep(25)
    }
  }
  await poll('the EventSource to open', (log) => log.opens >= 1, 10_000)
  return { page, poll, pageErrors }
}

async function screenshot(ctx: CaseContext, page: Page, name: string): Promise<void> {
  await mkdir(ctx.artifactsDir, { recursive: true })
  const file = path.join(ctx.artifactsDir, `${name}-${ctx.protocol}.png`)
  await page.screenshot({ path: file, fullPage: true })
  ctx.note(`screenshot: ${file}`)
}

/** Check 10, black-box part: the page's EventSource receives published events. */
export const browserReceive: ConformanceCase = {
  id: 'browser.receive',
  profile: 'herald-app',
  title: `Chromium opens the page and its EventSource receives what /publish sends to "${PAGE_TOPIC}"`,
  needs: ['browser', 'publish'],
  protocols: ['http1'],
  async run(ctx) {
    const server = await ctx.server()
    const { page, poll, pageErrors } = await openPage(ctx, server.pageUrl)
    // The page may have connected before this check (a shared server): count from now.
    const before = (await readLog(page))?.messages.length ?? 0
    const marker = `browser-receive ${process.pid} ${Date.now()}`
    const sent: string[] = []
    for (let n = 1; n <= 3; n++) {
      sent.push(`${marker} ${n}`)
      await ctx.publish(server, PAGE_TOPIC, { data: `${marker} ${n}` })
    }
    const log = await poll(
      '3 published events on the page',
      (l) => l.messages.filter((m) => m.data.startsWith(marker)).length >= 3,
      5000,
    )
    const got = log.messages
      .slice(before)
      .filter((m) => m.data.startsWith(marker))
      .map((m) => m.data)
    await screenshot(ctx, page, 'browser-receive')
    assertNone([
      ...(got.join() === sent.join() ? [] : [`the page got ${got.join(', ')}; expected ${sent.join(', ')}`]),
      ...pageErrors.map((e) => `page error: ${e}`),
    ])
  },
}

/**
 * Check 10 for any server: Chromium's own EventSource, opened by the check in a document of the server's
 * origin (whatever `/` answers, even a 404), receives published events, a named one included.
 */
export const browserEventSource: ConformanceCase = {
  id: 'browser.eventsource',
  profile: 'sse',
  title: "Chromium's EventSource receives published events, named ones included",
  needs: ['browser', 'publish'],
  protocols: ['http1'],
  async run(ctx) {
    const server = await ctx.server()
    if (Object.keys(server.eventsHeaders).length > 0)
      ctx.skip("the events route needs headers (--header), which a browser's EventSource cannot send")
    const browser = await ctx.browser()
    const page = await browser.newPage()
    ctx.defer(() => page.close())
    const pageErrors: string[] = []
    page.on('pageerror', (error) => pageErrors.push(error.message))
    // A blank document of the stream's origin (so the EventSource needs no CORS), served by the browser
    // itself: whatever the server answers at some path may carry a CSP that forbids connecting.
    const blank = new URL(`/__conformance-blank-${process.pid}`, server.eventsUrl).href
    await page.route(blank, (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/html',
        body: '<!doctype html><title>conformance</title>',
      }),
    )
    await page.goto(blank)
    const topic = ctx.topic('browser')
    const url = new URL(server.eventsUrl)
    url.searchParams.append('topic', topic)
    await page.evaluate(
      ({ href, named }) => {
        const log = { opens: 0, errors: 0, messages: [] as { type: string; data: string }[] }
        ;(window as unknown as { __heraldEs: typeof log }).__heraldEs = log
        const source = new EventSource(href)
        source.onopen = () => log.opens++
        source.onerror = () => log.errors++
        source.onmessage = (e) => log.messages.push({ type: 'message', data: e.data })
        source.addEventListener(named, (e) =>
          log.messages.push({ type: named, data: (e as MessageEvent).data }),
        )
      },
      { href: url.href, named: 'named-event' },
    )
    const read = () =>
      page.evaluate(
        () =>
          (
            window as unknown as {
              __heraldEs: { opens: number; errors: number; messages: { type: string; data: string }[] }
            }
          ).__heraldEs,
      )
    const poll = async (what: string, check: (log: Awaited<ReturnType<typeof read>>) => boolean) => {
      const deadline = performance.now() + 3000
      for (;;) {
        const log = await read()
        if (check(log)) return log
        if (performance.now() > deadline) {
          // What to do depends on how far it got: no open, an open that failed, or events that never came.
          const hint =
            log.opens === 0 && log.errors === 0
              ? 'the response head never came; send the headers when the stream starts'
              : log.opens === 0
                ? 'the browser refused the response (status or Content-Type); answer 200 text/event-stream'
                : 'the events never reached the page; something holds them (a compressor without no-transform or a flush, or a proxy)'
          throw new Error(
            `timed out after 3000 ms waiting for ${what}: the EventSource opened ${log.opens} time(s), ` +
              `${log.errors} error event(s), ${log.messages.length} message(s): ${hint}`,
          )
        }
        await sleep(25)
      }
    }
    await poll('the EventSource to open', (log) => log.opens >= 1)
    const marker = 'browser-eventsource' // the topic is the check's own
    const sent = [
      { type: 'message', data: `${marker} 1` },
      { type: 'named-event', data: `${marker} 2` },
      { type: 'message', data: `${marker} 3\nline two` },
    ]
    for (const e of sent) {
      await ctx.publish(
        server,
        topic,
        e.type === 'message' ? { data: e.data } : { event: e.type, data: e.data },
      )
    }
    const log = await poll(`${sent.length} events`, (l) => l.messages.length >= sent.length)
    const got = log.messages.slice(-sent.length)
    const problems = sent.flatMap((e, i) => {
      const g = got[i]
      if (g?.type === e.type && g?.data === e.data) return []
      if (g?.type !== e.type)
        return [`event ${i + 1}: the EventSource dispatched ${g?.type}, expected ${e.type}`]
      return [
        `event ${i + 1}: the EventSource got data that differs (${firstDifference(g.data, e.data)}): the server changes the data; send it as is`,
      ]
    })
    assertNone([...problems, ...pageErrors.map((e) => `page error: ${e}`)])
  },
}

/** Check 10: the page resumes after a server restart on the same port, nothing lost or doubled. */
export const browserResume: ConformanceCase = {
  id: 'browser.resume',
  profile: 'herald-app',
  title: 'Chromium receives events on the page and resumes after a restart with none lost or doubled',
  needs: ['browser', 'hub'],
  protocols: ['http1'],
  async run(ctx) {
    // The hub outlives the server, as a durable store would across a deploy: the app's close() may
    // close the hub it was given, so it gets a view whose close() only ends the current streams.
    const subscriptions = new Set<Subscription>()
    const hub = ctx.createHub({
      retryMs: 250, // a short retry hint, so the browser comes back in well under its default 3 s
      heartbeatMs: 1000,
      onSubscribe: (s) => {
        subscriptions.add(s)
        void s.closed.then(() => subscriptions.delete(s))
      },
    })
    const server = await ctx.server(undefined, { hub: keepOpen(hub, subscriptions) })
    const { page, poll, pageErrors } = await openPage(ctx, server.pageUrl)
    await waitUntil(
      `the page to subscribe to "${PAGE_TOPIC}"`,
      () => hub.subscriberCount(PAGE_TOPIC) >= 1,
      5000,
    )
    const expected: string[] = []
    // Awaited: the order of the page's log is checked, and a broker outage fails the check with its error.
    const send = async (n: number) => {
      const data = `browser ${n}`
      await hub.publish(PAGE_TOPIC, { data })
      expected.push(data)
    }
    for (let n = 1; n <= 3; n++) await send(n)
    await poll('3 events before the restart', (log) => log.messages.length >= 3, 5000)

    await server.close()
    if (hub.closed) {
      throw new Error(
        'the app closed the hub it was given, so history cannot survive a restart; close only the server',
      )
    }
    for (let n = 4; n <= 6; n++) await send(n) // missed while the server is down: only history has them
    await sleep(100)
    await ctx.server(undefined, { port: server.port, hub: keepOpen(hub, subscriptions) })
    await poll(
      'the page to reconnect and replay the missed events',
      (log) => log.messages.length >= 6,
      15_000,
    )
    for (let n = 7; n <= 8; n++) await send(n)
    const log = await poll('live events after the restart', (l) => l.messages.length >= 8, 5000)
    await sleep(200) // a duplicate would show up now
    const final = (await readLog(page))!
    const problems: string[] = []
    const got = final.messages.map((m) => m.data)
    if (got.join() !== expected.join())
      problems.push(`the page got ${got.join(', ')}; expected ${expected.join(', ')}`)
    if (log.opens < 2) problems.push(`the EventSource opened ${log.opens} time(s); it never reconnected`)
    problems.push(...pageErrors.map((e) => `page error: ${e}`))
    await screenshot(ctx, page, 'browser-resume')
    ctx.note(`${final.opens} opens, ${final.errors} error events`)
    assertNone(problems)
  },
}
