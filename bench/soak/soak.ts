// The soak: the four sample apps in one child process, thousands of subscribers for minutes of mixed
// publishing, churn, slow readers and abrupt resets, then everyone leaves. Reports the server's memory and
// handles before, at peak and after, and checks every reading subscriber got its topic complete and in order.
// Usage: pnpm soak [--minutes 5] [--subscribers 5000] [--rate 20] [--warmup 60] [--snapshots]   (rate: events per second per app)
import { type ChildProcess, fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { createParser } from 'eventsource-parser'
import { APPS, type Command, HISTORY_MS, PUBLISH_TOKEN, type Reply } from './server.ts'

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  if (i === -1) return fallback
  const value = Number(process.argv[i + 1])
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`)
  return value
}

const MINUTES = flag('minutes', 5)
const SUBSCRIBERS = flag('subscribers', 5000)
const RATE = flag('rate', 20)
const WARMUP_SECONDS = flag('warmup', 60)
const TOPICS = 10
/** Heap snapshots of the server before and after, for `soak/heap-diff.ts` (they take a moment and disk). */
const SNAPSHOTS = process.argv.includes('--snapshots')
const resultsDir = new URL('../results/', import.meta.url)
const parentUnhandled: string[] = []
const serverErrors: string[] = []
process.on('unhandledRejection', (r) => parentUnhandled.push(String(r)))

type Kind = 'reader' | 'slow' | 'churn' | 'reset'
const KINDS: Array<[Kind, number]> = [
  ['reader', 0.7],
  ['slow', 0.1],
  ['churn', 0.1],
  ['reset', 0.1],
]

interface Sub {
  app: string
  topic: string
  kind: Kind
  address: string
  /** Last data seq received on the current stream (or across reconnects, for churners). */
  last: number
  lastId: string | undefined
  received: number
  problems: string[]
  req?: http.ClientRequest
  res?: http.IncomingMessage
  stopped: boolean
  sessions: number
  cut: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const rand = (min: number, max: number) => min + Math.random() * (max - min)
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`

let server: ChildProcess
function ask<T extends Reply['type']>(command: Command, type: T): Promise<Extract<Reply, { type: T }>> {
  return new Promise((resolve) => {
    const listener = (reply: Reply) => {
      if (reply.type !== type) return
      server.off('message', listener)
      resolve(reply as Extract<Reply, { type: T }>)
    }
    server.on('message', listener)
    server.send(command)
  })
}

const publishAgent = new http.Agent({ keepAlive: true, maxSockets: 8 })
const published: Record<string, number> = {}

function post(url: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      `${url}/publish`,
      {
        method: 'POST',
        agent: publishAgent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${PUBLISH_TOKEN}` },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', () => resolve(0))
    req.end(body)
  })
}

/** Publishes the next seq on `app`/`topic`; data carries the seq and some padding (64 B to 4 KiB). */
async function publish(url: string, app: string, topic: string): Promise<void> {
  const key = `${app}/${topic}`
  const seq = (published[key] ?? 0) + 1
  published[key] = seq
  const pad = 'p'.repeat(Math.floor(rand(64, 4096)))
  const status = await post(url, JSON.stringify({ topic, event: 'tick', data: JSON.stringify({ seq, pad }) }))
  if (status !== 200) throw new Error(`publish on ${key} answered ${status}`)
}

/** Opens (or reopens) `sub`'s stream; checks every event's seq against the one before. */
function connect(sub: Sub, url: string): void {
  if (sub.stopped) return
  sub.sessions++
  const headers: Record<string, string> = { accept: 'text/event-stream' }
  // Churners resume; abrupt resets start over (as a crashed tab would).
  if (sub.kind === 'churn' && sub.lastId) headers['last-event-id'] = sub.lastId
  if (sub.kind === 'reset') sub.last = 0
  const req = http.get(`${url}/events?topic=${sub.topic}`, {
    agent: false,
    localAddress: sub.address,
    headers,
  })
  sub.req = req
  req.on('error', () => {})
  req.on('response', (res) => {
    sub.res = res
    if (res.statusCode !== 200) {
      sub.problems.push(`status ${res.statusCode}`)
      res.resume()
      return
    }
    const parser = createParser({
      onEvent(e) {
        if (e.event === 'reset' || e.event === 'gap' || e.event === 'slow-consumer') {
          if (sub.kind === 'reader' || sub.kind === 'slow') sub.problems.push(`${e.event} event`)
          // A churner told its id is too old: it continues from what comes next.
          if (e.event === 'reset') sub.last = 0
          if (e.event === 'slow-consumer') sub.cut++
          return
        }
        if (e.event !== 'tick') return
        const seq = (JSON.parse(e.data) as { seq: number }).seq
        if (sub.last !== 0 && seq !== sub.last + 1) {
          sub.problems.push(`seq ${seq} after ${sub.last} (session ${sub.sessions})`)
        }
        sub.last = seq
        sub.lastId = e.id
        sub.received++
      },
    })
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => parser.feed(chunk))
    res.on('error', () => {})
    res.on('end', () => {
      if ((sub.kind === 'reader' || sub.kind === 'slow') && !sub.stopped)
        sub.problems.push('stream ended early')
    })
  })
}

async function lifecycle(sub: Sub, url: string): Promise<void> {
  connect(sub, url)
  if (sub.kind === 'reader') return
  while (!sub.stopped) {
    if (sub.kind === 'slow') {
      // Reads in bursts: stops for up to 3 s, then catches up.
      await sleep(rand(1000, 5000))
      sub.res?.pause()
      await sleep(rand(500, 3000))
      sub.res?.resume()
    } else {
      await sleep(sub.kind === 'churn' ? rand(1000, 4000) : rand(500, 3000))
      if (sub.stopped) break
      if (sub.kind === 'churn') sub.req?.destroy()
      // TCP RST, no FIN: the server learns of it from a failed write or read.
      else
        (
          sub.req?.socket as (import('node:net').Socket & { resetAndDestroy?(): void }) | undefined
        )?.resetAndDestroy?.()
      await sleep(rand(50, 500))
      connect(sub, url)
    }
  }
}

async function main(): Promise<void> {
  const started = Date.now()
  server = fork(new URL('./server.ts', import.meta.url), [], {
    execArgv: ['--expose-gc', '--import', 'tsx', '--conditions=@herald/source'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  // Anything the apps write to stderr (an error a framework logged) is a finding.
  server.stderr?.on('data', (chunk: Buffer) => {
    serverErrors.push(chunk.toString())
    process.stderr.write(chunk)
  })
  const { urls } = await new Promise<Extract<Reply, { type: 'listening' }>>((resolve) =>
    server.once('message', (m: Reply) => m.type === 'listening' && resolve(m)),
  )
  console.log(
    `soak: ${SUBSCRIBERS} subscribers over ${APPS.join(', ')} for ${MINUTES} min after a ${WARMUP_SECONDS} s warm-up, ${RATE} events/s per app`,
  )

  // Warm-up: the same mix at full size, so compiled code, pools and table sizes are in the baseline. A
  // 20 s one left V8 still compiling for minutes after: the heap then grew by compiled code alone.
  const warm = await phase(urls, SUBSCRIBERS, WARMUP_SECONDS * 1000, async () => {})
  const warmFailures = warm.filter((s) => s.problems.length > 0).length
  publishAgent.destroy()
  await historyGone()
  const before = await settled()
  if (SNAPSHOTS) await snapshot('before')
  console.log(`before: heap ${mb(before.heapUsed)}, rss ${mb(before.rss)}, handles ${before.handleCount}`)

  let peakHeap = 0
  let peakRss = 0
  const sample = async () => {
    const m = await ask({ type: 'measure', gc: false }, 'measure')
    peakHeap = Math.max(peakHeap, m.heapUsed)
    peakRss = Math.max(peakRss, m.rss)
  }
  const subs = await phase(urls, SUBSCRIBERS, MINUTES * 60_000, sample, started)
  const finalSeq = (sub: Sub) => published[`${sub.app}/${sub.topic}`] ?? 0
  const readers = subs.filter((s) => s.kind === 'reader' || s.kind === 'slow')
  publishAgent.destroy()
  await historyGone()
  const after = await settled()
  if (SNAPSHOTS) await snapshot('after')

  const incomplete = readers.filter((s) => s.problems.length > 0 || s.last !== finalSeq(s))
  const churners = subs.filter((s) => s.kind === 'churn')
  const churnProblems = churners.filter((s) => s.problems.length > 0)
  const heapGrowth = (after.heapUsed - before.heapUsed) / before.heapUsed
  const rssGrowth = (after.rss - before.rss) / before.rss
  const report = {
    minutes: MINUTES,
    subscribers: subs.length,
    ratePerApp: RATE,
    published: Object.values(published).reduce((a, b) => a + b, 0),
    heap: { before: before.heapUsed, peak: peakHeap, after: after.heapUsed, growth: heapGrowth },
    heapSpaces: Object.fromEntries(
      Object.keys(after.spaces).map((k) => [k, { before: before.spaces[k] ?? 0, after: after.spaces[k] }]),
    ),
    rss: { before: before.rss, peak: peakRss, after: after.rss, growth: rssGrowth },
    handles: { before: before.handles, after: after.handles },
    unhandled: [...after.unhandled, ...parentUnhandled],
    serverErrorOutput: serverErrors.join('').slice(0, 2000),
    readers: {
      total: readers.length,
      incomplete: incomplete.length,
      examples: incomplete.slice(0, 5).map(describe),
    },
    churn: {
      total: churners.length,
      sessions: churners.reduce((a, s) => a + s.sessions, 0),
      withProblems: churnProblems.length,
      examples: churnProblems.slice(0, 3).map(describe),
    },
    resets: {
      total: subs.filter((s) => s.kind === 'reset').length,
      sessions: subs.filter((s) => s.kind === 'reset').reduce((a, s) => a + s.sessions, 0),
    },
    machine: { cpus: os.cpus().length, load: os.loadavg() },
  }
  console.log(`after:  heap ${mb(after.heapUsed)}, rss ${mb(after.rss)}, handles ${after.handleCount}`)
  console.log(
    [
      `heap   before ${mb(before.heapUsed)}  peak ${mb(peakHeap)}  after ${mb(after.heapUsed)}  (${(heapGrowth * 100).toFixed(1)}%)`,
      `heap growth by space: ${Object.keys(after.spaces)
        .map((k) => `${k} ${((after.spaces[k]! - (before.spaces[k] ?? 0)) / 1024).toFixed(0)} KiB`)
        .join(', ')}`,
      `rss    before ${mb(before.rss)}  peak ${mb(peakRss)}  after ${mb(after.rss)}  (${(rssGrowth * 100).toFixed(1)}%)${SNAPSHOTS ? ' (not comparable: the snapshot took native memory)' : ''}`,
      `handles before ${before.handleCount} ${JSON.stringify(before.handles)}`,
      `handles after  ${after.handleCount} ${JSON.stringify(after.handles)}`,
      `unhandled rejections / exceptions: ${report.unhandled.length}; server error output: ${serverErrors.length} chunks`,
      `reading subscribers complete and in order: ${readers.length - incomplete.length} / ${readers.length}`,
      `churners: ${churners.length} (${report.churn.sessions} sessions), with a gap or disorder: ${churnProblems.length}`,
      `abrupt resets: ${report.resets.total} subscribers, ${report.resets.sessions} sessions`,
    ].join('\n'),
  )
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(new URL('soak-latest.json', resultsDir), `${JSON.stringify(report, null, 2)}\n`)
  await ask({ type: 'close' }, 'closed')
  const ok =
    incomplete.length === 0 &&
    churnProblems.length === 0 &&
    warmFailures === 0 &&
    report.unhandled.length === 0 &&
    serverErrors.length === 0 &&
    after.handleCount === before.handleCount &&
    heapGrowth <= 0.05 &&
    // Writing a snapshot takes native memory the process keeps: RSS is not comparable then.
    (SNAPSHOTS || rssGrowth <= 0.05)
  console.log(ok ? 'soak: PASS' : 'soak: FAIL')
  process.exit(ok ? 0 : 1)
}

/** Connects `count` subscribers of every kind, publishes for `durationMs`, lets readers catch up, then everyone leaves. */
async function phase(
  urls: Record<string, string>,
  count: number,
  durationMs: number,
  sample: () => Promise<void>,
  started = Date.now(),
): Promise<Sub[]> {
  // Everyone connects, from 100 loopback addresses (the apps allow 256 streams per client address).
  const subs: Sub[] = []
  const perApp = Math.floor(count / APPS.length)
  for (const app of APPS) {
    let i = 0
    for (const [kind, share] of KINDS) {
      for (let n = 0; n < Math.round(perApp * share) && i < perApp; n++, i++) {
        const sub = newSub(app, kind, i)
        // Connected before the publishing starts: a reader must get every event from the next one on.
        if (kind === 'reader' || kind === 'slow') sub.last = published[`${app}/${sub.topic}`] ?? 0
        subs.push(sub)
      }
    }
  }
  for (let i = 0; i < subs.length; i += 100) {
    for (const sub of subs.slice(i, i + 100)) void lifecycle(sub, urls[sub.app]!)
    await sleep(100)
  }
  // Publishing starts once every reader has its stream: a reader must then get every event. A reader whose
  // connection failed on the way in (an overloaded machine's backlog) tries again first.
  const readers0 = subs.filter((s) => s.kind === 'reader' || s.kind === 'slow')
  for (let tries = 0; readers0.some((s) => s.res?.statusCode !== 200); tries++) {
    if (tries === 600) throw new Error('readers could not all connect within 60 s')
    if (tries % 50 === 49) {
      for (const s of readers0) {
        if (s.res?.statusCode === 200) continue
        s.req?.destroy()
        s.problems = []
        connect(s, urls[s.app]!)
      }
    }
    await sleep(100)
  }
  await sleep(500)

  const end = Date.now() + durationMs
  let nextSample = 0
  let nextLog = Date.now() + 30_000
  const interval = 1000 / RATE
  let tick = 0
  while (Date.now() < end) {
    const t0 = Date.now()
    await Promise.all(APPS.map((app) => publish(urls[app]!, app, `soak-${tick % TOPICS}`)))
    tick++
    if (Date.now() >= nextSample) {
      nextSample = Date.now() + 5000
      await sample()
    }
    if (Date.now() >= nextLog) {
      nextLog = Date.now() + 30_000
      const { counts } = await ask({ type: 'subscribers' }, 'subscribers')
      console.log(
        `  ${Math.round((Date.now() - started) / 1000)} s: ${tick * APPS.length} published, subscribers ${JSON.stringify(counts)}`,
      )
    }
    await sleep(Math.max(0, interval - (Date.now() - t0)))
  }

  // Readers must catch up to the last event of their topic; then everyone leaves.
  const finalSeq = (sub: Sub) => published[`${sub.app}/${sub.topic}`] ?? 0
  const readers = subs.filter((s) => s.kind === 'reader' || s.kind === 'slow')
  for (const sub of subs) if (sub.kind === 'slow') sub.res?.resume()
  const caughtUp = Date.now() + 60_000
  while (Date.now() < caughtUp && readers.some((s) => s.problems.length === 0 && s.last !== finalSeq(s))) {
    await sleep(200)
  }
  await sample()
  for (const sub of subs) {
    sub.stopped = true
    sub.req?.destroy()
  }
  await allGone()
  return subs
}

function newSub(app: string, kind: Kind, i: number): Sub {
  return {
    app,
    kind,
    topic: `soak-${i % TOPICS}`,
    address: `127.0.0.${2 + (i % 100)}`,
    last: 0,
    lastId: undefined,
    received: 0,
    problems: [],
    stopped: false,
    sessions: 0,
    cut: 0,
  }
}

function describe(sub: Sub): string {
  return `${sub.app} ${sub.kind} ${sub.topic}: last ${sub.last} of ${published[`${sub.app}/${sub.topic}`]}, ${sub.problems.slice(0, 3).join('; ')}`
}

/** Waits until every hub's history has aged out (HISTORY_MS after the last publish). */
async function historyGone(): Promise<void> {
  await sleep(1000)
  for (let i = 0; i < (HISTORY_MS * 3) / 500; i++) {
    if ((await ask({ type: 'measure', gc: false }, 'measure')).historyEvents === 0) return
    await sleep(500)
  }
  throw new Error('history still holds events long after its maxAgeMs')
}

/**
 * The server's reading once it has settled: sockets of the clients that just left are still closing (each is
 * a handle) and memory freed by one collection can need another, so it measures (with full collections)
 * every second until the handle count has not changed for three readings and the heap moved by less than
 * 0.5%, for at most 30 s.
 */
async function settled(): Promise<Extract<Reply, { type: 'measure' }>> {
  const readings: Array<Extract<Reply, { type: 'measure' }>> = []
  for (let i = 0; i < 30; i++) {
    readings.push(await ask({ type: 'measure', gc: true }, 'measure'))
    const [a, b, c] = readings.slice(-3)
    if (
      c &&
      a!.handleCount === c.handleCount &&
      b!.handleCount === c.handleCount &&
      Math.abs(c.heapUsed - b!.heapUsed) / b!.heapUsed < 0.005
    ) {
      return c
    }
    await sleep(1000)
  }
  const last = readings.at(-1)!
  console.log(`  (not settled after 30 s: handles ${readings.map((r) => r.handleCount).join(' ')})`)
  return last
}

async function snapshot(name: string): Promise<void> {
  mkdirSync(resultsDir, { recursive: true })
  const { file } = await ask(
    { type: 'snapshot', file: fileURLToPath(new URL(`soak-${name}.heapsnapshot`, resultsDir)) },
    'snapshot',
  )
  console.log(`  heap snapshot: ${file}`)
}

async function allGone(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const { counts } = await ask({ type: 'subscribers' }, 'subscribers')
    if (Object.values(counts).every((n) => n === 0)) return
    await sleep(100)
  }
  throw new Error('subscribers still registered 30 s after every client left')
}

main().catch((error) => {
  console.error(error)
  server?.kill()
  process.exit(1)
})
