import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Dashboard, start } from '../src/app.js'
import { BuildRunner } from '../src/builds.js'
import { createDashboardHub } from '../src/hub.js'
import {
  ARTIFACTS,
  type DashboardWindow,
  DOCS_SCREENSHOT,
  HAVE_BROWSER,
  launchChromium,
  REQUIRE_BROWSER,
  SKIP_NOTE,
  seeded,
} from './browser-helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const shot = (page: Page, name: string) => page.screenshot({ path: new URL(name, ARTIFACTS).pathname })

if (!HAVE_BROWSER && !REQUIRE_BROWSER) console.warn(`dashboard browser tests${SKIP_NOTE}`)
if (!HAVE_BROWSER && REQUIRE_BROWSER) {
  it('Chromium is installed (HERALD_REQUIRE_BROWSER=1)', () => {
    throw new Error(
      `HERALD_REQUIRE_BROWSER=1 but there is no Chromium at ${process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium'}`,
    )
  })
}

describe.skipIf(!HAVE_BROWSER)(`dashboard in Chromium${SKIP_NOTE}`, { timeout: 60_000 }, () => {
  let browser: Browser
  const servers: Dashboard[] = []

  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    for (const s of servers) await s.close()
  })

  async function openPage(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/ERR_CONNECTION_REFUSED|Failed to load resource/.test(msg.text())) {
        problems.push(`console error: ${msg.text()}`)
      }
    })
    ;(page as Page & { problems: string[] }).problems = problems
    // Independent of the page's own bookkeeping: record every log row ever added to the DOM, per build.
    await page.addInitScript(() => {
      const seen: Record<string, number[]> = {}
      ;(window as unknown as DashboardWindow).__seenRows = seen
      new MutationObserver((records) => {
        for (const r of records) {
          for (const n of r.addedNodes) {
            const row = n as HTMLElement
            if (!row.classList?.contains('log-line')) continue
            const build = (row.closest('[data-build]') as HTMLElement | null)?.dataset.build ?? '?'
            seen[build] ??= []
            seen[build].push(Number(row.dataset.seq))
          }
        }
      }).observe(document, { childList: true, subtree: true })
    })
    await page.goto(url)
    await page.waitForFunction(() => document.getElementById('connection')?.dataset.state === 'live')
    return page
  }

  it('streams a build, survives a server restart on the same port with no gap or duplicate, and completes', async () => {
    // The hub and the runner outlive the HTTP server, as a Redis-backed hub would outlive a process.
    const hub = createDashboardHub()
    const runner = new BuildRunner(hub, { speed: 3, failureRate: 0, random: seeded(7) })
    let server = await start({ hub, runner })
    servers.push(server)
    const { port } = server
    const page = await openPage(server.url)
    await expect
      .poll(() => page.locator('#served-by').textContent())
      .toContain('Hono 4 on @hono/node-server, Node sink (fast path), HTTP/1.1')

    await page.fill('#build-name', 'web-frontend')
    await page.click('#start-build')
    const card = page.locator('.build').first()
    await expect.poll(() => card.locator('.build-name').textContent()).toBe('web-frontend')
    const build = await card.getAttribute('data-build')
    const progress = card.locator('.progress')
    const percent = async () => Number(await progress.getAttribute('aria-valuenow'))

    // The bar advances and lines arrive.
    await page.waitForFunction(
      () => Number(document.querySelector('.build .progress')?.getAttribute('aria-valuenow')) >= 8,
    )
    const firstPercent = await percent()
    await page.waitForFunction(
      (p) => Number(document.querySelector('.build .progress')?.getAttribute('aria-valuenow')) > p,
      firstPercent,
    )
    expect(await card.locator('.log-line').count()).toBeGreaterThan(5)
    await shot(page, 'build-running.png')

    // Kill the server (streams cut, no goodbye) while the build keeps running.
    await server.close()
    await page.waitForFunction(() => document.getElementById('connection')?.dataset.state === 'reconnecting')
    const lastIdBeforeRestart = await page.evaluate(
      () => (window as unknown as DashboardWindow).__dashboard.state.lastEventId as string,
    )
    expect(lastIdBeforeRestart).not.toBe('')
    const linesAtStop = runner.snapshot().builds[0]?.lines ?? 0
    await sleep(1500)
    expect(runner.snapshot().builds[0]?.lines, 'the build logged while the server was down').toBeGreaterThan(
      linesAtStop,
    )
    await shot(page, 'reconnecting.png')

    server = await start({ port, hub, runner })
    servers.push(server)
    await expect
      .poll(() => page.locator('#connection').textContent(), { timeout: 15_000 })
      .toBe(`resumed from id ${lastIdBeforeRestart}`)
    expect(hub.metrics().replayed, 'the hub replayed what the page missed').toBeGreaterThan(0)
    await shot(page, 'resumed.png')

    await expect.poll(() => card.getAttribute('data-status'), { timeout: 40_000 }).toBe('succeeded')
    expect(await percent()).toBe(100)
    // Let the last frame render.
    await page.waitForFunction(() => new Promise((r) => requestAnimationFrame(() => r(true))))
    const total = runner.snapshot().builds.find((b) => b.id === build)?.lines
    expect(total).toBeGreaterThan(200)
    // Every line the page ever showed for this build, in order: 1 to the last, once each (no gap, no duplicate).
    const seen = await page.evaluate(
      (b) => (window as unknown as DashboardWindow).__seenRows[b as string] as number[],
      build,
    )
    expect(seen).toEqual(Array.from({ length: total as number }, (_, i) => i + 1))
    // And what is on screen now is the contiguous tail.
    const onScreen = await card
      .locator('.log-line')
      .evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.seq)))
    expect(onScreen.at(-1)).toBe(total)
    expect(onScreen).toEqual(seen.slice(-onScreen.length))
    expect(await page.locator('.log-gap, .log-line.duplicate').count()).toBe(0)
    expect(await page.locator('#integrity').textContent()).toContain('log integrity: 0 gaps · 0 duplicates')
    await shot(page, 'build-completed.png')
    expect((page as Page & { problems: string[] }).problems).toEqual([])
    await page.close()
  })

  it('a page opened mid-build loads the snapshot and continues from it with no gap or duplicate', async () => {
    const server = await start({ builds: { speed: 4, failureRate: 0, random: seeded(11) } })
    servers.push(server)
    const { id } = server.runner.start({ name: 'late-joiner', durationSeconds: 24 })
    await expect
      .poll(() => server.runner.snapshot().builds[0]?.lines ?? 0, { timeout: 10_000 })
      .toBeGreaterThan(150)
    const page = await openPage(server.url)
    const card = page.locator(`.build[data-build="${id}"]`)
    const earlier = await card.locator('.log-earlier').textContent()
    await expect.poll(() => card.getAttribute('data-status'), { timeout: 30_000 }).toBe('succeeded')
    await page.waitForFunction(() => new Promise((r) => requestAnimationFrame(() => r(true))))
    const total = server.runner.snapshot().builds[0]?.lines as number
    const seen = (await page.evaluate((b) => (window as unknown as DashboardWindow).__seenRows[b], id)) ?? []
    // The snapshot brings the last 100 lines; the stream brings the rest, each line exactly once.
    const first = seen[0] as number
    expect(first).toBeGreaterThan(1)
    expect(seen).toEqual(Array.from({ length: total - first + 1 }, (_, i) => first + i))
    expect(await page.locator('#integrity').textContent()).toContain('0 gaps · 0 duplicates')
    expect(await card.locator('.log-gap, .log-line.duplicate').count()).toBe(0)
    expect(earlier).toBe(`… ${first - 1} earlier lines …`)
    expect((page as Page & { problems: string[] }).problems).toEqual([])
    await page.close()
  })

  it('after a real restart (a new in-memory hub, history gone) the page says so and reloads the builds', async () => {
    let server = await start({ builds: { speed: 1, failureRate: 0 } })
    servers.push(server)
    const { port } = server
    const page = await openPage(server.url)
    await page.click('#start-build')
    await expect.poll(() => page.locator('.build .log-line').count()).toBeGreaterThan(2)

    // Graceful shutdown, as Ctrl-C does: the page hears `shutdown` and keeps retrying.
    await server.close()
    await expect.poll(() => page.locator('#connection').textContent()).toBe('server restarting…')
    server = await start({ port, builds: { speed: 1, failureRate: 0 } })
    servers.push(server)
    await expect
      .poll(() => page.locator('#connection').textContent(), { timeout: 15_000 })
      .toBe('history unavailable: state reloaded')
    // The old build was cancelled on shutdown; the new server's builds show up as usual.
    await expect.poll(() => page.locator('.build').first().getAttribute('data-status')).toBe('cancelled')
    await page.click('#start-build')
    await expect.poll(() => page.locator('.build').count()).toBe(2)
    await expect.poll(() => page.locator('.build').first().getAttribute('data-status')).toBe('running')
    expect((page as Page & { problems: string[] }).problems).toEqual([])
    await page.close()
  })

  it('the metrics strip reads its own stream with @herald/sse-client (fetch), and comes back after a restart', async () => {
    const hub = createDashboardHub()
    const runner = new BuildRunner(hub, { speed: 1, failureRate: 0 })
    let server = await start({ hub, runner, metricsIntervalMs: 200 })
    servers.push(server)
    const { port } = server
    const page = await browser.newPage()
    const requests: string[] = []
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/events'))
        requests.push(`${r.resourceType()} ${new URL(r.url()).pathname}`)
    })
    await page.goto(server.url)
    const status = page.locator('#metrics-status')
    await expect.poll(() => status.getAttribute('data-state')).toBe('live')
    // Two streams: the builds on the browser's EventSource, the metrics on the client's fetch.
    await expect.poll(() => page.locator('#m-clients').textContent()).toBe('2')
    expect(requests.sort()).toEqual(['eventsource /events', 'fetch /events/metrics'])

    await server.close() // the HTTP server goes; the hub keeps publishing metrics
    await expect.poll(() => status.getAttribute('data-state')).toBe('reconnecting')
    expect(await status.textContent()).toMatch(/^reconnecting in \d+\.\d s \(ERR_SSE_(NETWORK|ENDED)\)$/)
    server = await start({ port, hub, runner, metricsIntervalMs: 200 })
    servers.push(server)
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 15_000 }).toBe('live')
    expect(requests.filter((r) => r === 'fetch /events/metrics').length).toBeGreaterThanOrEqual(2)
    expect(await page.locator('#m-events').textContent()).not.toBe('–')
    await page.close()
  })

  it('shows why POST /builds refused a build (bad field, too many builds) instead of swallowing it', async () => {
    const server = await start({ builds: { maxConcurrent: 1, speed: 1, failureRate: 0 } })
    servers.push(server)
    const page = await openPage(server.url)
    const error = page.locator('#error')
    await expect.poll(() => error.isHidden()).toBe(true)

    await page.fill('#build-name', 'x'.repeat(70))
    await page.click('#start-build')
    await expect.poll(() => error.isVisible()).toBe(true)
    await expect
      .poll(() => error.textContent())
      .toContain('Build not started (400): Invalid build name: must be 1 to 60 characters')
    expect(server.runner.running).toBe(0)

    await page.fill('#build-name', 'first')
    await page.click('#start-build')
    await expect.poll(() => error.isHidden()).toBe(true)
    await expect.poll(() => page.locator('.build').count()).toBe(1)

    await page.click('#start-build')
    await expect
      .poll(() => error.textContent())
      .toContain('Build not started (429): Too many concurrent builds (limit 1); wait for one to finish')
    await expect.poll(() => page.locator('.build').count()).toBe(1)
    await shot(page, 'error-too-many-builds.png')
    await page.click('#error-close')
    await expect.poll(() => error.isHidden()).toBe(true)
    await page.close()
  })

  it('renders 10 streaming builds in batches: at most one DOM update per frame, frames keep coming', async () => {
    const server = await start({ builds: { speed: 2, failureRate: 0, random: seeded(3) } })
    servers.push(server)
    const page = await openPage(server.url)
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${server.url}/builds`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ durationSeconds: 40 }),
      })
      expect(res.status).toBe(201)
    }
    await expect.poll(() => page.locator('.build').count()).toBe(10)
    // Into the install stage, where the line rate climbs.
    await page.waitForFunction(() => (window as unknown as DashboardWindow).__dashboard.stats.logEvents > 300)

    // Main-thread CPU time (not wall time: other processes share this machine) from a Chromium trace.
    await browser.startTracing(page, {
      categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'],
    })
    // Measured inside the page: frames, DOM mutation batches (a MutationObserver callback per batch of
    // synchronous DOM changes), log rows added and long tasks, over three seconds of streaming.
    const m = await page.evaluate(
      () =>
        new Promise<{
          frames: number
          maxFrameGap: number
          batches: number
          rowsAdded: number
          events: number
          longTasks: number[]
        }>((resolve) => {
          const longTasks: number[] = []
          const po = new PerformanceObserver((list) => {
            for (const e of list.getEntries()) longTasks.push(Math.round(e.duration))
          })
          po.observe({ type: 'longtask' })
          let batches = 0
          let rowsAdded = 0
          const mo = new MutationObserver((records) => {
            batches++
            for (const r of records) {
              for (const n of r.addedNodes) if ((n as Element).classList?.contains('log-line')) rowsAdded++
            }
          })
          mo.observe(document.getElementById('builds') as HTMLElement, { childList: true, subtree: true })
          const stats = (window as unknown as DashboardWindow).__dashboard.stats
          const events0 = stats.logEvents
          let frames = 0
          let maxFrameGap = 0
          let last = performance.now()
          const started = last
          const tick = (now: number) => {
            frames++
            maxFrameGap = Math.max(maxFrameGap, now - last)
            last = now
            if (now - started < 3000) requestAnimationFrame(tick)
            else {
              mo.disconnect()
              po.disconnect()
              resolve({
                frames,
                maxFrameGap,
                batches,
                rowsAdded,
                events: stats.logEvents - events0,
                longTasks,
              })
            }
          }
          requestAnimationFrame(tick)
        }),
    )
    const trace = JSON.parse((await browser.stopTracing()).toString()) as {
      traceEvents: Array<{
        name: string
        ph: string
        tid: number
        pid: number
        ts: number
        tdur?: number
        args?: { name?: string }
      }>
    }
    const main = trace.traceEvents.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
    const tasks = trace.traceEvents.filter(
      (e) => e.name === 'RunTask' && e.ph === 'X' && e.tid === main?.tid && e.pid === main?.pid,
    )
    const span = tasks.length
      ? (Math.max(...tasks.map((e) => e.ts)) - Math.min(...tasks.map((e) => e.ts))) / 1000
      : 0
    const cpuMs = tasks.reduce((sum, e) => sum + (e.tdur ?? 0), 0) / 1000
    const busy = cpuMs / Math.max(1, span)
    await shot(page, 'ten-builds.png')
    // The README's picture: refreshed on request only, so a test run leaves the working tree clean.
    if (!existsSync(DOCS_SCREENSHOT) || process.env.HERALD_UPDATE_SCREENSHOT === '1') {
      mkdirSync(new URL('.', DOCS_SCREENSHOT), { recursive: true })
      copyFileSync(new URL('ten-builds.png', ARTIFACTS), DOCS_SCREENSHOT)
    }
    console.log(
      `10 builds, 3 s in Chromium: ${JSON.stringify({ ...m, cpuMs: Math.round(cpuMs), span: Math.round(span), busy })}`,
    )

    expect(m.events, 'log lines streamed during the measurement').toBeGreaterThan(300)
    expect(m.rowsAdded).toBeGreaterThan(300)
    // Batched: many rows per DOM update, and no more DOM updates than frames (one per frame at most).
    expect(m.batches).toBeLessThanOrEqual(m.frames + 2)
    expect(m.rowsAdded / m.batches).toBeGreaterThan(3)
    // Frames keep coming while 10 builds stream. CPU per frame and frame gaps are logged above, not asserted:
    // they are speed figures, which depend on what else the machine runs (benchmarks own such goals).
    expect(span).toBeGreaterThan(2000)
    expect(m.frames).toBeGreaterThan(5)
    await page.close()
  })
})
