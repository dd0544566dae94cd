// Publish → receipt latency per adapter, through each sample app with its compression middleware
// installed, side by side in one run. The client is in this process but talks over a real socket with
// the full browser Accept-Encoding; the publish is in-process through the hub `start()` returns.
// Events go one at a time (the next is published when the previous arrived), and the adapters take
// turns in blocks of 100 (rotating who goes first) so that a change in machine load hits them all alike.
// Reference row: a bare node:http server with serveNode (no framework, no compression).
import { existsSync } from 'node:fs'
import http, { type IncomingMessage } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import zlib from 'node:zlib'
import { createHub, type Hub } from '@herald/sse-core'
import { serveNode } from '@herald/sse-core/node'
import { createParser } from 'eventsource-parser'
import { fmt, printTable, saveResults } from './lib/results.ts'

const EVENTS = Number(process.env.EVENTS ?? 1000)
const WARMUP = Number(process.env.WARMUP ?? 100)
const BLOCK = 100
const EVENT_TIMEOUT_MS = 5000
const ACCEPT_ENCODING = 'gzip, deflate, br, zstd'

interface RunningApp {
  url: string
  hub: Hub
  close(): Promise<void>
}
type Start = (options?: { port?: number; publishToken?: string; eventsToken?: string }) => Promise<RunningApp>

const here = dirname(fileURLToPath(import.meta.url))
const ADAPTERS = [
  { name: 'express', middleware: 'compression' },
  { name: 'koa', middleware: 'koa-compress' },
  { name: 'hono', middleware: 'hono/compress' },
  { name: 'h3', middleware: 'compression via fromNodeHandler' },
]

/** The floor: node:http + serveNode, nothing in between. */
async function startBare(): Promise<RunningApp> {
  const hub = createHub()
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const info = {
      url,
      lastEventId: req.headers['last-event-id'] as string | undefined,
      remoteAddress: req.socket.remoteAddress,
    }
    serveNode(hub, {}, req, info, res).catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    hub,
    async close() {
      await hub.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** One subscriber: resolves each expected event's arrival time in order. */
class Subscriber {
  private waiting: { seq: number; resolve: (t: number) => void; reject: (e: Error) => void } | undefined
  contentEncoding = 'none'
  private constructor(
    readonly request: http.ClientRequest,
    readonly topic: string,
  ) {}

  static async open(baseUrl: string, topic: string): Promise<Subscriber> {
    // Talk to the IPv4 loopback whatever name the app printed.
    const url = `${baseUrl.replace('//localhost:', '//127.0.0.1:')}/events?topic=${topic}`
    const request = http.get(url, {
      headers: { accept: 'text/event-stream', 'accept-encoding': ACCEPT_ENCODING },
    })
    const sub = new Subscriber(request, topic)
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      request.once('response', resolve)
      request.once('error', reject)
    })
    if (response.statusCode !== 200) throw new Error(`${url}: status ${response.statusCode}`)
    const encoding = response.headers['content-encoding']
    sub.contentEncoding = encoding ?? 'none'
    // The streams say `no-transform`, so no middleware should compress them; decode anyway if one did.
    const decoders: Record<string, () => NodeJS.ReadWriteStream> = {
      gzip: () => zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH }),
      deflate: () => zlib.createInflate({ flush: zlib.constants.Z_SYNC_FLUSH }),
      br: () => zlib.createBrotliDecompress({ flush: zlib.constants.BROTLI_OPERATION_FLUSH }),
    }
    let body: NodeJS.ReadableStream = response
    if (encoding) {
      const make = decoders[encoding]
      if (!make) throw new Error(`${url}: cannot decode content-encoding ${encoding}`)
      body = response.pipe(make())
    }
    const parser = createParser({
      onEvent: (event) => {
        const now = performance.now()
        const w = sub.waiting
        if (!w) return
        const seq = Number(event.data.slice(0, event.data.indexOf(' ')))
        sub.waiting = undefined
        if (seq === w.seq) w.resolve(now)
        else w.reject(new Error(`${url}: got event ${seq}, expected ${w.seq}`))
      },
    })
    body.setEncoding('utf8')
    body.on('data', (text: string) => parser.feed(text))
    return sub
  }

  /** Publishes event `seq` through `hub` and resolves the publish → receipt time in ms. */
  async roundTrip(hub: Hub, seq: number): Promise<number> {
    const arrived = new Promise<number>((resolve, reject) => {
      this.waiting = { seq, resolve, reject }
    })
    const sent = performance.now()
    hub.publish(this.topic, { event: 'tick', data: `${seq} ${'x'.repeat(120)}` })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`event ${seq} not received in ${EVENT_TIMEOUT_MS} ms`)),
        EVENT_TIMEOUT_MS,
      )
    })
    try {
      return (await Promise.race([arrived, timeout])) - sent
    } finally {
      clearTimeout(timer)
    }
  }
}

interface Target {
  name: string
  middleware: string
  app: RunningApp
  sub: Subscriber
  samples: number[]
}

const targets: Target[] = []
const skipped: { name: string; reason: string }[] = []
{
  const app = await startBare()
  targets.push({
    name: 'node:http (reference)',
    middleware: 'none',
    app,
    sub: await Subscriber.open(app.url, 'latency'),
    samples: [],
  })
}
for (const { name, middleware } of ADAPTERS) {
  const file = join(here, '..', 'apps', `${name}-app`, 'src', 'app.ts')
  if (!existsSync(file)) {
    skipped.push({ name, reason: `${file.slice(file.indexOf('apps/'))} does not exist yet` })
    console.log(`skipping ${name}: its sample app does not exist yet`)
    continue
  }
  try {
    const { start } = (await import(pathToFileURL(file).href)) as { start: Start }
    // Tokens given, so a sample app does not make up and print its own (the bench publishes in-process).
    const app = await start({ port: 0, publishToken: 'bench', eventsToken: 'bench' })
    const sub = await Subscriber.open(app.url, 'latency')
    targets.push({ name, middleware, app, sub, samples: [] })
  } catch (error) {
    skipped.push({ name, reason: String(error) })
    console.log(`skipping ${name}: ${error}`)
  }
}
for (const t of targets) {
  const deadline = Date.now() + 10_000
  while (t.app.hub.subscriberCount('latency') === 0) {
    if (Date.now() > deadline) throw new Error(`${t.name}: the subscriber never registered`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

const startedAt = Date.now()
let seq = 0
for (const t of targets) for (let i = 0; i < WARMUP; i++) await t.sub.roundTrip(t.app.hub, ++seq)
for (let done = 0, block = 0; done < EVENTS; done += BLOCK, block++) {
  // Rotate who goes first in each block.
  for (const t of targets.map((_, i) => targets[(i + block) % targets.length]!)) {
    for (let i = 0; i < Math.min(BLOCK, EVENTS - done); i++)
      t.samples.push(await t.sub.roundTrip(t.app.hub, ++seq))
  }
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
const summary = targets.map((t) => {
  const s = [...t.samples].sort((a, b) => a - b)
  return {
    name: t.name,
    middleware: t.middleware,
    contentEncoding: t.sub.contentEncoding,
    events: s.length,
    p50: quantile(s, 0.5),
    p99: quantile(s, 0.99),
    max: s[s.length - 1]!,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  }
})
const ref = summary[0]!
console.log(
  `\nlatency: publish → receipt, ${EVENTS} events per adapter (after ${WARMUP} warm-up), one at a time,` +
    ` client Accept-Encoding: ${ACCEPT_ENCODING}\n`,
)
printTable([
  [
    'adapter',
    'compression middleware',
    'stream encoding',
    'p50 ms',
    'p99 ms',
    'max ms',
    'p50 vs node:http',
    'p99 vs node:http',
  ],
  ...summary.map((s) => [
    s.name,
    s.middleware,
    s.contentEncoding,
    fmt(s.p50, 3),
    fmt(s.p99, 3),
    fmt(s.max, 3),
    `${fmt(s.p50 / ref.p50, 2)}×`,
    `${fmt(s.p99 / ref.p99, 2)}×`,
  ]),
])
for (const s of skipped) console.log(`skipped ${s.name}: ${s.reason}`)
const path = saveResults('latency', {
  config: { EVENTS, WARMUP, BLOCK, ACCEPT_ENCODING },
  summary,
  skipped,
  samples: Object.fromEntries(targets.map((t) => [t.name, t.samples])),
  elapsedMs: Date.now() - startedAt,
})
console.log(`\nraw results: ${path}`)
for (const t of targets) {
  t.sub.request.destroy()
  await t.app.close()
}
process.exit(0)
