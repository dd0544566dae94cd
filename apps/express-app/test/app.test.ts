// Drives the sample app over real HTTP with independent clients: fetch + eventsource-parser, and the
// `eventsource` package for reconnects. The conformance suite (test/conformance.test.ts) covers the rest.
import { createHub, type Hub, type Subscription } from '@herald/sse-core'
import { EventSource } from 'eventsource'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { afterEach, describe, expect, it } from 'vitest'
import { type RunningApp, start } from '../src/app.js'

const ACCEPT_ALL = 'gzip, deflate, br, zstd'

async function until(check: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Opens an event stream with fetch and parses it as it arrives. */
async function stream(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController()
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  })
  const events: EventSourceMessage[] = []
  const parser = createParser({ onEvent: (event) => events.push(event) })
  const reading = (async () => {
    const decoder = new TextDecoder()
    const reader = response.body!.getReader()
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      parser.feed(decoder.decode(read.value, { stream: true }))
    }
  })().catch(() => {})
  return { response, events, close: () => abort.abort(), reading }
}

async function publish(app: RunningApp, body: unknown, type = 'application/json') {
  const response = await fetch(`${app.url}/publish`, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as { id?: string; error?: string } }
}

describe('express-app', () => {
  let app: RunningApp
  const cleanups: Array<() => unknown> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    await app.close()
  })

  it('sends stream headers before any event, and every event at once through compression', async () => {
    app = await start()
    const client = await stream(`${app.url}/events?topic=demo&topic=other`, { 'accept-encoding': ACCEPT_ALL })
    cleanups.push(client.close)
    // fetch resolved, so the headers arrived, and nothing was published yet.
    expect(app.hub.metrics().published).toBe(0)
    expect(client.response.status).toBe(200)
    expect(client.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(client.response.headers.get('content-encoding')).toBeNull()
    await until(() => app.hub.subscriberCount() === 1, 'the subscriber')

    for (let i = 0; i < 5; i++) {
      const { status, body } = await publish(app, {
        topic: i % 2 ? 'other' : 'demo',
        event: 'tick',
        data: `n${i}`,
      })
      expect(status).toBe(200)
      await until(() => client.events.length === i + 1, `event ${i}`)
      expect(client.events[i]).toEqual({ id: body.id, event: 'tick', data: `n${i}` })
    }
  })

  it('releases the subscriber within a second of the client leaving', async () => {
    app = await start()
    const client = await stream(`${app.url}/events?topic=demo`, { 'accept-encoding': ACCEPT_ALL })
    await until(() => app.hub.subscriberCount() === 1, 'the subscriber')
    client.close()
    await until(() => app.hub.subscriberCount() === 0, 'the subscriber to be released', 1_000)
  })

  it('replays what an EventSource missed while reconnecting with Last-Event-ID', async () => {
    const subscriptions: Subscription[] = []
    const hub: Hub = createHub({ retryMs: 50, onSubscribe: (s) => subscriptions.push(s) })
    app = await start({ hub })
    const source = new EventSource(`${app.url}/events?topic=demo`)
    cleanups.push(() => source.close())
    const seen: string[] = []
    source.onmessage = (event) => seen.push(event.data)
    await until(() => subscriptions.length === 1, 'the first connection')
    hub.publish('demo', { data: 'one' })
    await until(() => seen.length === 1, 'the first event')

    // The server ends the stream; events published before the client is back must not be lost.
    subscriptions[0]!.close()
    hub.publish('demo', { data: 'two' })
    hub.publish('demo', { data: 'three' })
    await until(() => subscriptions.length === 2, 'the reconnect')
    hub.publish('demo', { data: 'four' })
    await until(() => seen.length === 4, 'four events')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(seen).toEqual(['one', 'two', 'three', 'four'])
  })

  it('refuses bad publishes with 400 and a reason, and publishes nothing', async () => {
    app = await start()
    const client = await stream(`${app.url}/events?topic=demo`)
    cleanups.push(client.close)
    await until(() => app.hub.subscriberCount() === 1, 'the subscriber')
    const bad: Array<[unknown, RegExp]> = [
      ['{"topic": "demo", "data": ', /not valid JSON/],
      [['demo', 'x'], /JSON object/],
      [{ data: 'x' }, /topic/],
      [{ topic: '', data: 'x' }, /topic/i],
      [{ topic: 'demo' }, /data/],
      [{ topic: 'demo', data: 42 }, /data/],
      [{ topic: 'demo', event: 7, data: 'x' }, /event/],
      [{ topic: 'demo', event: 'a\nb', data: 'x' }, /event/],
      [{ topic: 'demo', data: 'x', id: '5' }, /id/],
      [{ topic: 'demo', data: 'x', retry: 5 }, /unknown field "retry"/],
    ]
    for (const [body, reason] of bad) {
      const answer = await publish(app, body)
      expect(answer.status, JSON.stringify(body)).toBe(400)
      expect(answer.body.error).toMatch(reason)
    }
    expect((await publish(app, { topic: 'demo', data: 'x' }, 'text/plain')).status).toBe(415)
    expect(app.hub.metrics().published).toBe(0)

    const good = await publish(app, { topic: 'demo', data: 'fine' })
    expect(good.status).toBe(200)
    await until(() => client.events.length === 1, 'the good event')
    expect(client.events).toEqual([{ id: good.body.id, event: undefined, data: 'fine' }])
  })

  it('serves the demo page, and close() does not wait for open streams', async () => {
    app = await start()
    const page = await fetch(`${app.url}/`, { headers: { 'accept-encoding': 'gzip' } })
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(page.headers.get('content-encoding')).toBe('gzip') // compression is really in front
    expect(await page.text()).toContain("new EventSource('/events?topic=demo')")

    const clients = await Promise.all([1, 2].map(() => stream(`${app.url}/events?topic=demo`)))
    await until(() => app.hub.subscriberCount() === 2, 'two subscribers')
    await app.close({ event: { event: 'shutdown', data: 'bye' }, retryMs: 1000 })
    await Promise.all(clients.map((c) => c.reading))
    for (const client of clients)
      expect(client.events.at(-1)).toMatchObject({ event: 'shutdown', data: 'bye' })
  })
})
