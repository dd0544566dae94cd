// One hub across processes through Redis against the in-memory hub in one process, side by side in one run.
//
// memory: one server process (createHub(), in-memory broker) with SUBSCRIBERS streams.
// redis:  two server processes (createHub({ broker: createRedisBroker(...) }), one namespace) with
//         SUBSCRIBERS / 2 streams each; every event is published on the first and reaches both through Redis.
// This process is the client: raw sockets, counting `data:` lines.
//
// Throughput: for RUN_MS per setup, the publisher publishes as fast as it may while at most WINDOW events
// are not yet received by every subscriber (hub.publish is called without waiting between events, so the
// Redis broker pipelines them). Delivered events/s = events received over all subscribers per second.
// Latency: LATENCY_EVENTS events, one every PACE_MS, each carrying its publish time (one clock: same
// machine); publish-to-receipt time at every subscriber, p50 and p99. "Added" = redis minus memory.
import { type ChildProcess, execSync, fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient } from '@redis/client'
import type { BrokerCommand, BrokerReply } from './lib/broker-node.ts'
import { fmt, printTable, saveResults } from './lib/results.ts'

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const SUBSCRIBERS = env('SUBSCRIBERS', 1000)
const RUN_MS = env('RUN_MS', 4000)
const WINDOW = env('WINDOW', 64)
const LATENCY_EVENTS = env('LATENCY_EVENTS', 200)
const PACE_MS = env('PACE_MS', 20)
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

const fdLimit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim())
if (Number.isFinite(fdLimit) && fdLimit < SUBSCRIBERS + 200) {
  throw new Error(`ulimit -n is ${fdLimit}; this bench needs ${SUBSCRIBERS + 200} descriptors (raise it)`)
}

const here = dirname(fileURLToPath(import.meta.url))
const clock = () => performance.timeOrigin + performance.now()

class ServerProcess {
  readonly child: ChildProcess
  private waiters: { type: BrokerReply['type']; resolve: (r: BrokerReply) => void }[] = []
  port = 0
  constructor(args: string[]) {
    this.child = fork(join(here, 'lib', 'broker-node.ts'), args, {
      execArgv: ['--import', 'tsx', '--conditions=@herald/source'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.child.on('message', (reply: BrokerReply) => {
      if (reply.type === 'failed') throw new Error(`publish failed in a server: ${reply.message}`)
      const i = this.waiters.findIndex((w) => w.type === reply.type)
      if (i !== -1) this.waiters.splice(i, 1)[0]!.resolve(reply)
    })
  }
  next<T extends BrokerReply['type']>(type: T): Promise<Extract<BrokerReply, { type: T }>> {
    return new Promise((resolve) => this.waiters.push({ type, resolve: resolve as (r: BrokerReply) => void }))
  }
  send(cmd: BrokerCommand): void {
    this.child.send(cmd)
  }
  async start(): Promise<this> {
    this.port = (await this.next('listening')).port
    return this
  }
  async close(): Promise<void> {
    const closed = this.next('closed')
    this.send({ type: 'close' })
    await closed
  }
}

/** Every subscriber's stream; counts `data:` lines and, when asked, records publish-to-receipt times. */
class Subscribers {
  received = 0
  latencies: number[] | undefined
  onData: (() => void) | undefined
  private sockets: Socket[] = []

  async open(port: number, count: number): Promise<void> {
    const batch = 100
    for (let i = 0; i < count; i += batch) {
      await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => this.openOne(port)))
    }
  }

  private openOne(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port })
      let carry = ''
      let headersDone = false
      socket.setEncoding('latin1')
      socket.on('error', reject)
      socket.on('connect', () => {
        socket.write(
          `GET /events?topic=bench HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`,
        )
      })
      socket.on('data', (text: string) => {
        const now = this.latencies ? clock() : 0
        let data = carry + text
        if (!headersDone) {
          const end = data.indexOf('\r\n\r\n')
          if (end === -1) {
            carry = data
            return
          }
          headersDone = true
          data = data.slice(end + 4)
          resolve()
        }
        const last = data.lastIndexOf('\n')
        carry = data.slice(last + 1)
        let at = data.indexOf('data: ')
        while (at !== -1 && at < last) {
          this.received++
          if (this.latencies) {
            const end = data.indexOf('\n', at)
            this.latencies.push(now - Number(data.slice(at + 6, end)))
          }
          at = data.indexOf('data: ', at + 6)
        }
        this.onData?.()
      })
      this.sockets.push(socket)
    })
  }

  close(): void {
    for (const s of this.sockets) s.destroy()
  }
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

interface Figures {
  eventsPerSecond: number
  published: number
  /** Publish-to-receipt over every stream (ms). */
  p50: number
  p99: number
  /** The same with one stream only, on the last server (with Redis: not the publisher's process). */
  oneP50: number
  oneP99: number
}

/** Paced publishes, each carrying its publish time; publish-to-receipt at every stream of `subs`. */
async function latency(subs: Subscribers, total: number, publisher: ServerProcess): Promise<number[]> {
  subs.onData = undefined
  subs.received = 0
  subs.latencies = []
  for (let i = 0; i < LATENCY_EVENTS; i++) {
    publisher.send({ type: 'publish', n: 1 })
    await new Promise((r) => setTimeout(r, PACE_MS))
  }
  await waitUntil(() => subs.received >= LATENCY_EVENTS * total, 30_000, 'every paced event received')
  return subs.latencies.sort((a, b) => a - b)
}

async function measure(servers: ServerProcess[], publisher: ServerProcess): Promise<Figures> {
  const subs = new Subscribers()
  const per = Math.floor(SUBSCRIBERS / servers.length)
  for (const s of servers) await subs.open(s.port, per)
  const total = per * servers.length
  for (const s of servers) {
    const counted = s.next('count')
    s.send({ type: 'count' })
    if ((await counted).count !== per) throw new Error('a server has not registered every subscriber')
  }
  // Let the Redis SUBSCRIBE of a topic new to the process be acknowledged before the first event.
  await new Promise((r) => setTimeout(r, 200))

  // Throughput: keep at most WINDOW events in flight (not yet received by every subscriber).
  let published = 0
  let stop = false
  const refill = () => {
    if (stop) return
    const inFlight = published - Math.floor(subs.received / total)
    if (inFlight < WINDOW / 2) {
      const n = WINDOW - inFlight
      published += n
      publisher.send({ type: 'publish', n })
    }
  }
  subs.onData = refill
  const started = clock()
  refill()
  await new Promise((r) => setTimeout(r, RUN_MS))
  stop = true
  await waitUntil(() => subs.received >= published * total, 30_000, 'every event received')
  const elapsed = (clock() - started) / 1000
  const eventsPerSecond = subs.received / elapsed
  if (subs.received !== published * total)
    throw new Error(`received ${subs.received}, expected ${published * total}`)

  const sorted = await latency(subs, total, publisher)
  subs.close()
  // One stream: the latency the broker adds, without the time a fan-out to a thousand sockets takes.
  const one = new Subscribers()
  await one.open(servers.at(-1)!.port, 1)
  await new Promise((r) => setTimeout(r, 200))
  const alone = await latency(one, 1, publisher)
  one.close()
  return {
    eventsPerSecond,
    published,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    oneP50: quantile(alone, 0.5),
    oneP99: quantile(alone, 0.99),
  }
}

const probe = createClient({ url: REDIS_URL })
probe.on('error', () => {})
try {
  await probe.connect()
} catch {
  console.error(`No Redis at ${REDIS_URL}: start one (or set REDIS_URL) to run this bench.`)
  process.exit(1)
}

const memoryServer = await new ServerProcess(['memory']).start()
const memory = await measure([memoryServer], memoryServer)
await memoryServer.close()

const namespace = `herald-bench-${randomUUID().slice(0, 8)}`
const a = await new ServerProcess(['redis', REDIS_URL, namespace]).start()
const b = await new ServerProcess(['redis', REDIS_URL, namespace]).start()
const redis = await measure([a, b], a)
await Promise.all([a.close(), b.close()])
const keys: string[] = []
for await (const batch of probe.scanIterator({ MATCH: `{${namespace}}:*`, COUNT: 1000 })) keys.push(...batch)
if (keys.length > 0) await probe.del(keys)
await probe.close()

const ratio = redis.eventsPerSecond / memory.eventsPerSecond
const row = (name: string, f: Figures) => [
  name,
  fmt(f.eventsPerSecond),
  fmt(f.p50, 3),
  fmt(f.p99, 3),
  fmt(f.oneP50, 3),
  fmt(f.oneP99, 3),
]
printTable([
  ['setup', 'delivered events/s', 'p50 ms', 'p99 ms', '1 stream p50', '1 stream p99'],
  row(`in-memory hub, 1 process, ${SUBSCRIBERS} streams`, memory),
  row(`Redis broker, 2 processes, ${SUBSCRIBERS} streams`, redis),
])
const ms = (n: number) => `${fmt(n, 3)} ms`
console.log(`\nthroughput ratio (Redis / memory): ${fmt(ratio, 2)}x (goal >= 0.5x)`)
console.log(
  `added latency, ${SUBSCRIBERS} streams: p50 ${ms(redis.p50 - memory.p50)} (goal <= 1 ms), p99 ${ms(redis.p99 - memory.p99)}`,
)
console.log(
  `added latency, 1 stream: p50 ${ms(redis.oneP50 - memory.oneP50)}, p99 ${ms(redis.oneP99 - memory.oneP99)}`,
)
const path = saveResults('redis', {
  settings: { SUBSCRIBERS, RUN_MS, WINDOW, LATENCY_EVENTS, PACE_MS },
  memory,
  redis,
  ratio,
  addedP50: redis.p50 - memory.p50,
  addedP99: redis.p99 - memory.p99,
  addedOneP50: redis.oneP50 - memory.oneP50,
  addedOneP99: redis.oneP99 - memory.oneP99,
})
console.log(`results: ${path}`)
