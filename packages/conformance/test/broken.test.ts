// The suite must see faults: each deliberately broken server fails exactly the checks its fault breaks.
// If a check goes blind (passes a broken server), these tests fail.
import { describe, expect, it } from 'vitest'
import {
  BrowserPool,
  type CaseResult,
  checkServer,
  headersImmediate,
  heartbeatIdle,
  lifecycleClose,
  limitsCapacity,
  runCase,
  runningServer,
  targetServer,
} from '../src/index.js'
import { type Faults, startBroken, startBrokenH2 } from './fixtures/broken-express.js'

const BLACK_BOX = ['headers.immediate', 'headers.compressed', 'compression.per-event', 'encoding.round-trip']

async function check(
  faults: Faults,
  only = BLACK_BOX,
  options: { compression?: boolean } = {},
): Promise<Record<string, CaseResult>> {
  const server = await startBroken(faults)
  try {
    const results = await checkServer({
      eventsUrl: `${server.url}/events`,
      publishUrl: `${server.url}/publish`,
      only,
      ...options,
    })
    return Object.fromEntries(results.map((r) => [r.id, r]))
  } finally {
    await server.close()
  }
}

describe('the suite catches broken servers', () => {
  it('a hand-written Express handler behind compression that never flushes', async () => {
    const r = await check({ noFlush: true }, ['headers.immediate', 'compression.per-event'])
    expect(r['compression.per-event']?.status).toBe('fail')
    expect(r['compression.per-event']?.reason).toMatch(
      /not decodable 2000 ms after publish \(Content-Encoding: (gzip|br|deflate)/,
    )
    expect(r['headers.immediate']?.status).toBe('fail')
    expect(r['headers.immediate']?.reason).toMatch(/Cache-Control "no-cache" lacks no-transform/)
  })

  it('a handler that sets Content-Length on the stream', async () => {
    const r = await check({ contentLength: true }, ['headers.immediate', 'compression.per-event'])
    expect(r['headers.immediate']?.status).toBe('fail')
    expect(r['headers.immediate']?.reason).toMatch(/Content-Length 1000000 is set on a stream/)
    expect(r['compression.per-event']?.status).toBe('pass')
  })

  it('a handler that sends headers only with the first event', async () => {
    const r = await check({ lateHeaders: true }, ['headers.immediate'])
    expect(r['headers.immediate']?.status).toBe('fail')
    expect(r['headers.immediate']?.reason).toMatch(/no response headers within|took \d+ ms/)
  })

  it('a correct hand-written handler passes the same checks (the faults, not the fixture, fail them)', async () => {
    const r = await check({})
    for (const id of ['headers.immediate', 'headers.compressed', 'compression.per-event']) {
      expect(r[id], `${id}: ${r[id]?.reason}`).toMatchObject({ status: 'pass' })
    }
    // Its own encoder writes a lone `data:` line as `data: ` and does not split ids into epochs, but the
    // round trip only compares what the parsers read: it passes too.
    expect(r['encoding.round-trip']?.status, r['encoding.round-trip']?.reason).toBe('pass')
  })
})

describe('the suite catches HTTP/2 mistakes', () => {
  it('a Connection header on an h2c stream: Node warns, and the check reports the warning', async () => {
    // The warning is expected here: the check must see it, the test output must not (Node's own printer is
    // a 'warning' listener; it is put back afterwards).
    const printers = process.listeners('warning')
    process.removeAllListeners('warning')
    const server = await startBrokenH2()
    try {
      const result = await runCase(headersImmediate, 'h2', {
        source: runningServer({ eventsUrl: `${server.url}/events` }),
        browsers: new BrowserPool(),
        artifactsDir: 'test-artifacts',
        // The server runs in this process, so its warnings are seen.
        captureErrors: true,
      })
      expect(result.status).toBe('fail')
      expect(result.reason).toMatch(/the server printed: .*connection header/i)
    } finally {
      await server.close()
      for (const printer of printers) process.on('warning', printer)
    }
  })
})

describe('the hub checks are not blind', () => {
  it('an app that serves a hub of its own is caught at start', async () => {
    const { createHub } = await import('@herald/sse-core')
    const { start } = await import('./fixtures/reference-server.js')
    const stubborn = targetServer(
      { name: 'ignores the hub', start: (o) => start({ ...o, hub: createHub() }) },
      createHub,
    )
    const env = {
      source: stubborn,
      browsers: new BrowserPool(),
      artifactsDir: 'test-artifacts',
      captureErrors: true,
    }
    const result = await runCase(heartbeatIdle, 'http1', env)
    expect(result.status).toBe('fail')
    expect(result.reason).toMatch(/start\(\) returned a hub other than the one it was given/)
  })

  it('limits configured on the hub but not enforced: the third subscriber is not refused', async () => {
    const { createHub } = await import('@herald/sse-core')
    const { start } = await import('./fixtures/reference-server.js')
    // Drops the limits before serving: a hub option the server never applies.
    const unlimited = targetServer({ name: 'no limits', start }, (o) =>
      createHub({ ...o, maxSubscribers: undefined, maxSubscribersPerClient: undefined }),
    )
    const env = {
      source: unlimited,
      browsers: new BrowserPool(),
      artifactsDir: 'test-artifacts',
      captureErrors: true,
    }
    const result = await runCase(limitsCapacity, 'http1', env)
    expect(result.status).toBe('fail')
    expect(result.reason).toMatch(
      /third subscriber: answered 200 with an event stream, expected a 503 refusal/,
    )
  })
})

describe('the sample-app convention checks are not blind', () => {
  const CONVENTION = ['publish.fields', 'publish.content-type', 'publish.body-limit', 'page.html']

  it('a hand-written server that follows the convention passes them (the faults, not the fixture, fail)', async () => {
    const r = await check({}, CONVENTION)
    for (const id of CONVENTION) expect(r[id], `${id}: ${r[id]?.reason}`).toMatchObject({ status: 'pass' })
  })

  it('a publish that ignores an id and unknown fields, and stringifies non-string data', async () => {
    const r = await check({ extraFields: true, anyData: true }, CONVENTION)
    expect(r['publish.fields']?.status).toBe('fail')
    expect(r['publish.fields']?.reason).toMatch(/data not a string: answered 200, expected 400/)
    expect(r['publish.fields']?.reason).toMatch(/an id field: answered 200, expected 400/)
    expect(r['publish.fields']?.reason).toMatch(/an unknown field: answered 200, expected 400/)
    // What was accepted reached the subscriber.
    expect(r['publish.fields']?.reason).toMatch(/subscribers received \d+ event\(s\)/)
    expect(r['publish.content-type']?.status).toBe('pass')
  })

  it('a publish that parses any Content-Type as JSON', async () => {
    const r = await check({ anyContentType: true }, CONVENTION)
    expect(r['publish.content-type']?.status).toBe('fail')
    expect(r['publish.content-type']?.reason).toMatch(/no Content-Type: answered 200, expected 415/)
    expect(r['publish.content-type']?.reason).toMatch(/Content-Type text\/plain: answered 200, expected 415/)
    expect(r['publish.content-type']?.reason).toMatch(/subscribers received 3 event\(s\)/)
    expect(r['publish.fields']?.status).toBe('pass')
  })

  it('a publish without the 64 KiB body limit', async () => {
    const r = await check({ noBodyLimit: true }, CONVENTION)
    expect(r['publish.body-limit']?.status).toBe('fail')
    expect(r['publish.body-limit']?.reason).toMatch(/a body of 65537 bytes: answered 200, expected 413/)
    expect(r['publish.body-limit']?.reason).toMatch(/subscribers received 3 event\(s\)/)
  })

  it('a page served as text/plain', async () => {
    const r = await check({ plainPage: true }, ['page.html'])
    expect(r['page.html']?.status).toBe('fail')
    expect(r['page.html']?.reason).toMatch(
      /Content-Type is "text\/plain; charset=utf-8", expected text\/html/,
    )
  })

  it('a page outside compression, when the server says compression is in front of every route', async () => {
    const claimed = await check({ uncompressedPage: true }, ['page.html'], { compression: true })
    expect(claimed['page.html']?.status).toBe('fail')
    expect(claimed['page.html']?.reason).toMatch(/the page came back uncompressed/)
    // Without the claim the same page passes: a user's server need not compress.
    expect((await check({ uncompressedPage: true }, ['page.html']))['page.html']?.status).toBe('pass')
    expect((await check({}, ['page.html'], { compression: true }))['page.html']?.status).toBe('pass')
  })

  it('a close() that waits for open streams to end by themselves', async () => {
    const { createHub } = await import('@herald/sse-core')
    const { start } = await import('./fixtures/reference-server.js')
    // Stops listening and waits for the connections, as server.close() alone does: streams never end.
    const env = {
      source: targetServer(
        { name: 'close waits', start: (o) => start({ ...o, closeWaitsForStreams: true }) },
        createHub,
      ),
      browsers: new BrowserPool(),
      artifactsDir: 'test-artifacts',
      captureErrors: true,
    }
    const started = performance.now()
    const result = await runCase(lifecycleClose, 'http1', env)
    expect(result.status).toBe('fail')
    expect(result.reason).toMatch(
      /close\(\) had not resolved 2000 ms after it was called with 2 streams open/,
    )
    expect(result.reason).toMatch(/2 of 2 open streams did not end after close\(\)/)
    expect(performance.now() - started).toBeLessThan(20_000)
  })
})
