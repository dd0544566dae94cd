// Drives the sample app over real HTTP with independent clients: eventsource-parser over fetch for the
// raw stream, and the `eventsource` package for the reconnect. The shared conformance suite covers more.
import { createHub, type Subscription } from '@herald/sse-core'
import { EventSource } from 'eventsource'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { type RunningApp, start } from '../src/app.js'

const subscriptions: Subscription[] = []
let app: RunningApp
const problems: unknown[] = []
const onRejection = (reason: unknown) => problems.push(reason)
const aborts: AbortController[] = []

beforeAll(async () => {
  process.on('unhandledRejection', onRejection)
  app = await start({
    hub: createHub({ heartbeatMs: 0, retryMs: 100, onSubscribe: (s) => subscriptions.push(s) }),
  })
})
afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort()
  await expect.poll(() => app.hub.subscriberCount(), { timeout: 2000 }).toBe(0)
})
afterAll(async () => {
  await app.close()
  process.off('unhandledRejection', onRejection)
  expect(problems).toEqual([])
})

/** Opens the stream with fetch; resolves when headers arrive. */
async function open(query: string, headers: Record<string, string> = {}) {
  const abort = new AbortController()
  aborts.push(abort)
  const started = performance.now()
  const res = await fetch(`${app.url}/events?${query}`, { headers, signal: abort.signal })
  const headersAfterMs = performance.now() - started
  const events: EventSourceMessage[] = []
  const parser = createParser({ onEvent: (e) => events.push(e) })
  const pump = (async () => {
    const decoder = new TextDecoder()
    const reader = res.body!.getReader()
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      parser.feed(decoder.decode(r.value, { stream: true }))
    }
  })().catch(() => {})
  return { res, events, headersAfterMs, abort: () => abort.abort(), pump }
}

const publish = (body: unknown) =>
  fetch(`${app.url}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

it('serves the demo page', async () => {
  const res = await fetch(app.url)
  expect(res.headers.get('content-type')).toMatch(/^text\/html/)
  expect(await res.text()).toContain("new EventSource('/events?topic=demo')")
})

it('sends headers before the first event and streams events through compression', async () => {
  const stream = await open('topic=demo&topic=other', { 'accept-encoding': 'gzip, deflate, br, zstd' })
  expect(stream.res.status).toBe(200)
  expect(stream.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
  expect(stream.res.headers.get('content-encoding')).toBeNull()
  expect(stream.headersAfterMs).toBeLessThan(1000)
  expect(app.hub.metrics().published).toBe(0)
  for (const [topic, data] of [
    ['demo', 'hello'],
    ['other', 'two\nlines'],
  ]) {
    const answer = await publish({ topic, event: 'note', data })
    expect(answer.status).toBe(200)
    const { id } = (await answer.json()) as { id: string }
    await expect.poll(() => stream.events.at(-1), { timeout: 2000 }).toEqual({ id, event: 'note', data })
  }
})

it('releases the subscriber when the client goes away', async () => {
  const stream = await open('topic=demo')
  await expect.poll(() => app.hub.subscriberCount('demo'), { timeout: 2000 }).toBe(1)
  const left = performance.now()
  stream.abort()
  await expect.poll(() => app.hub.subscriberCount('demo'), { timeout: 1000, interval: 10 }).toBe(0)
  expect(performance.now() - left).toBeLessThan(1000)
})

it('replays missed events when EventSource reconnects with Last-Event-ID', async () => {
  const source = new EventSource(`${app.url}/events?topic=replay`)
  const seen: string[] = []
  source.addEventListener('message', (e) => seen.push(e.data))
  try {
    await expect.poll(() => app.hub.subscriberCount('replay'), { timeout: 2000 }).toBe(1)
    await publish({ topic: 'replay', data: 'a' })
    await expect.poll(() => seen, { timeout: 2000 }).toEqual(['a'])
    // The server ends this stream; the client comes back (after the retry hint) asking for what it missed.
    subscriptions.at(-1)!.close()
    await expect.poll(() => app.hub.subscriberCount('replay'), { timeout: 2000 }).toBe(0)
    await publish({ topic: 'replay', data: 'b' })
    await publish({ topic: 'replay', data: 'c' })
    await expect.poll(() => seen, { timeout: 8000 }).toEqual(['a', 'b', 'c'])
    await publish({ topic: 'replay', data: 'd' })
    await expect.poll(() => seen, { timeout: 2000 }).toEqual(['a', 'b', 'c', 'd'])
  } finally {
    source.close()
  }
})

it('refuses a bad publish with 400 and a reason, and publishes nothing', async () => {
  const stream = await open('topic=demo')
  await expect.poll(() => app.hub.subscriberCount('demo'), { timeout: 2000 }).toBe(1)
  const before = app.hub.metrics().published
  const bad: [unknown, RegExp][] = [
    ['{"topic": "demo", "data": ', /JSON/],
    [[1, 2], /object/],
    [{ data: 'no topic' }, /topic/],
    [{ topic: 'demo' }, /data/],
    [{ topic: 'demo', data: 42 }, /data/],
    [{ topic: 'demo', data: 'x', event: 7 }, /event/],
    [{ topic: 'demo', data: 'x', id: '9' }, /id/],
    [{ topic: 'demo', data: 'x', colour: 'red' }, /colour/],
    [{ topic: 'demo', data: 'x', event: 'two\nlines' }, /event/],
    [{ topic: '', data: 'x' }, /topic/i],
  ]
  for (const [body, reason] of bad) {
    const res = await publish(body)
    expect(res.status, JSON.stringify(body)).toBe(400)
    expect(((await res.json()) as { error: string }).error, JSON.stringify(body)).toMatch(reason)
  }
  const asForm = await fetch(`${app.url}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'topic=demo&data=x',
  })
  expect(asForm.status).toBe(415)
  const huge = await publish({ topic: 'demo', data: 'x'.repeat(70_000) })
  expect(huge.status).toBe(413)
  expect(((await huge.json()) as { error: string }).error).toMatch(/64 KiB/)
  expect(app.hub.metrics().published).toBe(before)
  // A good publish still goes through, and is the only thing the subscriber sees.
  expect((await publish({ topic: 'demo', data: 'ok' })).status).toBe(200)
  await expect.poll(() => stream.events.map((e) => e.data), { timeout: 2000 }).toEqual(['ok'])
})

it('closes without hanging on open streams', async () => {
  const other = await start({ port: 0 })
  const res = await fetch(`${other.url}/events?topic=demo`)
  const body = res.text()
  await expect.poll(() => other.hub.subscriberCount(), { timeout: 2000 }).toBe(1)
  await other.close({ retryMs: 1000 })
  expect(await body).toMatch(/retry: 1000\n/)
})
