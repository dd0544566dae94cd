// Fan-out over real sockets on 127.0.0.1: the hand-written node:http floor, Herald (hub + Node sink)
// and better-sse, side by side in one run. Each server runs in its own child process (its CPU is
// measured there with process.cpuUsage); this process is the client: raw sockets counting events.
//
// Throughput: SUBSCRIBERS streams; the server publishes as fast as it may while at most WINDOW events
// are not yet received by every subscriber (the client acknowledges over IPC), for DURATION_MS, then
// drains. Two publish modes: `burst` (as fast as accepted: the window is refilled in one go whenever
// acknowledgements free it; several events share a tick, so write coalescing counts) and `tick` (paced:
// one publish per macrotask, so no two events can share a write: pure per-event fan-out cost). Every subscriber must receive every event,
// and the last id must match, or the run fails.
// Memory: IDLE_SUBSCRIBERS idle streams; RSS and heap (after gc) before and after connecting.
import { type ChildProcess, execSync, fork } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command, PublishMode, Reply, ServerKind } from './lib/fanout-server.ts'
import { CountingStream } from './lib/frame-counter.ts'
import { fmt, printTable, saveResults } from './lib/results.ts'

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const SUBSCRIBERS = env('SUBSCRIBERS', 1000)
const IDLE_SUBSCRIBERS = env('IDLE_SUBSCRIBERS', 5000)
const DURATION_MS = env('DURATION_MS', 4000)
const WINDOW = env('WINDOW', 64)
const ROUNDS = env('ROUNDS', 3)
const CONNECT_CONCURRENCY = 200
const MAX_EVENTS = 1_000_000 // bound on events per run, whatever the speed
const DRAIN_TIMEOUT_MS = 30_000
const KINDS: ServerKind[] = ['hand', 'herald', 'better']
// For profiling one side: SERVER_PROF_DIR=dir writes a .cpuprofile per server process there,
// ONLY=herald runs only those kinds' throughput (the ratio tables then need all three).
const PROF_DIR = process.env.SERVER_PROF_DIR
const ONLY = process.env.ONLY?.split(',') as ServerKind[] | undefined
const LABEL: Record<ServerKind, string> = {
  hand: 'hand-written node:http',
  herald: 'Herald (hub + node sink)',
  better: 'better-sse 0.16.1',
}
const MODES = (process.env.MODES?.split(',') ?? ['burst', 'tick']) as PublishMode[]

// Two sockets per stream would be the client's and the server's, but they live in different processes.
const fdLimit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim())
const needed = Math.max(SUBSCRIBERS, IDLE_SUBSCRIBERS) + 200
if (Number.isFinite(fdLimit) && fdLimit < needed) {
  throw new Error(`ulimit -n is ${fdLimit}; this bench needs ${needed} descriptors per process (raise it)`)
}

const here = dirname(fileURLToPath(import.meta.url))
const withTimeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref()),
  ])

/** A server child process with a request/reply helper over IPC. */
class ServerProcess {
  readonly child: ChildProcess
  private waiters: { type: Reply['type']; resolve: (r: Reply) => void }[] = []
  constructor(kind: ServerKind) {
    this.child = fork(join(here, 'lib', 'fanout-server.ts'), [kind], {
      execArgv: [
        '--import',
        'tsx',
        '--conditions=@herald/source',
        '--expose-gc',
        ...(PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(PROF_DIR, `${kind}-${Date.now()}`)}`] : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.child.on('message', (reply: Reply) => {
      const i = this.waiters.findIndex((w) => w.type === reply.type)
      if (i !== -1) this.waiters.splice(i, 1)[0]!.resolve(reply)
    })
  }
  next<T extends Reply['type']>(type: T, ms = 20_000): Promise<Extract<Reply, { type: T }>> {
    const p = new Promise<Reply>((resolve) => this.waiters.push({ type, resolve }))
    return withTimeout(p as Promise<Extract<Reply, { type: T }>>, ms, `server reply ${type}`)
  }
  send(cmd: Command): void {
    this.child.send(cmd)
  }
  /** Sends `cmd` and waits for the reply of type `replyType`. */
  ask<T extends Reply['type']>(cmd: Command, replyType: T): Promise<Extract<Reply, { type: T }>> {
    const p = this.next(replyType)
    this.send(cmd)
    return p
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    // Closing the IPC channel makes the server exit by itself (and write its CPU profile, if any).
    this.child.disconnect()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
}

/** Opens `n` streams, at most CONNECT_CONCURRENCY connecting at once; resolves when all have headers. */
async function connect(
  port: number,
  n: number,
  onEvents?: (s: CountingStream, before: number) => void,
): Promise<CountingStream[]> {
  const streams: CountingStream[] = []
  let failed: Error | undefined
  let opened = 0
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      let started = 0
      const startNext = () => {
        if (failed) return
        if (started >= n) return
        started++
        streams.push(
          new CountingStream(
            port,
            '/events?topic=bench',
            () => {
              opened++
              if (opened === n) resolve()
              else startNext()
            },
            onEvents ?? (() => {}),
            (_s, error) => {
              failed = error
              reject(error)
            },
          ),
        )
      }
      for (let i = 0; i < Math.min(CONNECT_CONCURRENCY, n); i++) startNext()
    }),
    60_000,
    `connecting ${n} streams`,
  )
  return streams
}

async function waitForCount(server: ServerProcess, n: number): Promise<void> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const { count } = await server.ask({ type: 'count' }, 'count')
    if (count === n) return
    if (Date.now() > deadline) throw new Error(`server reports ${count} subscribers, expected ${n}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function closeAll(streams: CountingStream[]): void {
  for (const s of streams) s.socket.destroy()
}

interface ThroughputResult {
  kind: ServerKind
  mode: PublishMode
  round: number
  subscribers: number
  published: number
  delivered: number
  wallMs: number
  eventsPerSecond: number
  serverCpuMicros: number
  cpuMicrosPerEvent: number
}

/** One server process per kind and round: connect SUBSCRIBERS once, then one measured run per mode. */
async function throughput(kind: ServerKind, round: number): Promise<ThroughputResult[]> {
  const server = new ServerProcess(kind)
  try {
    const { port } = await server.next('listening')
    // Smallest event count every subscriber has reached, kept incrementally:
    // reached[k] = subscribers that have received at least k events.
    const reached = new Int32Array(MAX_EVENTS + 2)
    let minimum = 0
    let ackScheduled = false
    let onMinimum: (() => void) | undefined
    const streams = await connect(port, SUBSCRIBERS, (s, before) => {
      const upTo = Math.min(s.events, MAX_EVENTS + 1)
      for (let k = before + 1; k <= upTo; k++) reached[k]!++
      if (reached[minimum + 1] === SUBSCRIBERS) {
        while (reached[minimum + 1] === SUBSCRIBERS) minimum++
        if (!ackScheduled) {
          ackScheduled = true
          setImmediate(() => {
            ackScheduled = false
            server.send({ type: 'ack', seq: minimum })
            onMinimum?.()
          })
        }
      }
    })
    await waitForCount(server, SUBSCRIBERS)
    const results: ThroughputResult[] = []
    let publishedBefore = 0
    for (const mode of MODES) {
      const start = performance.now()
      server.send({ type: 'run', window: WINDOW, mode })
      await new Promise((r) => setTimeout(r, DURATION_MS))
      const { published } = await server.ask({ type: 'stop' }, 'stopped')
      if (published > MAX_EVENTS) throw new Error(`published ${published} > ${MAX_EVENTS}`)
      await withTimeout(
        new Promise<void>((resolve) => {
          onMinimum = () => {
            if (minimum >= published) resolve()
          }
          onMinimum()
        }),
        DRAIN_TIMEOUT_MS,
        `every subscriber receiving ${published} events (slowest at ${minimum})`,
      )
      onMinimum = undefined
      const wallMs = performance.now() - start
      const report = await server.ask({ type: 'report' }, 'report')
      // Every subscriber got exactly every event, the last one last.
      for (const s of streams) {
        if (s.events !== published)
          throw new Error(`${kind}: a subscriber got ${s.events} of ${published} events`)
        if (s.lastId() !== `bench-${published}`) {
          throw new Error(`${kind}: last id ${s.lastId()}, expected bench-${published}`)
        }
      }
      const events = published - publishedBefore
      publishedBefore = published
      const delivered = events * SUBSCRIBERS
      results.push({
        kind,
        mode,
        round,
        subscribers: SUBSCRIBERS,
        published: events,
        delivered,
        wallMs,
        eventsPerSecond: delivered / (wallMs / 1000),
        serverCpuMicros: report.cpuMicros,
        cpuMicrosPerEvent: report.cpuMicros / delivered,
      })
    }
    closeAll(streams)
    return results
  } finally {
    await server.stop()
  }
}

interface MemoryResult {
  kind: ServerKind
  subscribers: number
  rssPerSubscriber: number
  heapPerSubscriber: number
  externalPerSubscriber: number
  before: Reply
  after: Reply
}

async function memory(kind: ServerKind): Promise<MemoryResult> {
  const server = new ServerProcess(kind)
  try {
    const { port } = await server.next('listening')
    // Warm the connection path first so compiled code and pools are in the baseline, not the delta.
    const warm = await connect(port, 200)
    await waitForCount(server, 200)
    closeAll(warm)
    await waitForCount(server, 0)
    await new Promise((r) => setTimeout(r, 200))
    const before = await server.ask({ type: 'memory' }, 'memory')
    const streams = await connect(port, IDLE_SUBSCRIBERS)
    await waitForCount(server, IDLE_SUBSCRIBERS)
    await new Promise((r) => setTimeout(r, 500))
    const after = await server.ask({ type: 'memory' }, 'memory')
    closeAll(streams)
    return {
      kind,
      subscribers: IDLE_SUBSCRIBERS,
      rssPerSubscriber: (after.rss - before.rss) / IDLE_SUBSCRIBERS,
      heapPerSubscriber: (after.heapUsed - before.heapUsed) / IDLE_SUBSCRIBERS,
      externalPerSubscriber: (after.external - before.external) / IDLE_SUBSCRIBERS,
      before,
      after,
    }
  } finally {
    await server.stop()
  }
}

const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y)
  return a.length % 2 ? a[(a.length - 1) / 2]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2
}

const startedAt = Date.now()
console.log(
  `fanout: ${SUBSCRIBERS} subscribers, ${DURATION_MS} ms per run, window ${WINDOW}, ${ROUNDS} rounds; ` +
    `memory at ${IDLE_SUBSCRIBERS} idle subscribers; ulimit -n ${fdLimit}`,
)
const runs: ThroughputResult[] = []
for (let round = 1; round <= ROUNDS; round++) {
  // Rotate the order each round so no implementation always runs first (or last) on a warm machine.
  const order = KINDS.map((_, i) => KINDS[(i + round - 1) % KINDS.length]!)
  for (const kind of order) {
    if (ONLY && !ONLY.includes(kind)) continue
    for (const r of await throughput(kind, round)) {
      runs.push(r)
      console.log(
        `  round ${round} ${r.mode.padEnd(5)} ${LABEL[kind].padEnd(26)} ${fmt(r.eventsPerSecond).padStart(11)} events/s` +
          `  ${fmt(r.cpuMicrosPerEvent, 3)} µs CPU/event  (${r.published} events each)`,
      )
    }
  }
}
if (ONLY) process.exit(0)
const mem: MemoryResult[] = []
for (const kind of KINDS) {
  const m = await memory(kind)
  mem.push(m)
  console.log(
    `  memory ${LABEL[kind].padEnd(26)} RSS ${fmt(m.rssPerSubscriber)} B/sub, heap ${fmt(m.heapPerSubscriber)} B/sub`,
  )
}

type Summary = { kind: ServerKind; mode: PublishMode; eventsPerSecond: number; cpuMicrosPerEvent: number }
const summary: Summary[] = []
for (const mode of MODES) {
  for (const kind of KINDS) {
    const mine = runs.filter((r) => r.kind === kind && r.mode === mode)
    summary.push({
      kind,
      mode,
      eventsPerSecond: median(mine.map((r) => r.eventsPerSecond)),
      cpuMicrosPerEvent: median(mine.map((r) => r.cpuMicrosPerEvent)),
    })
  }
}
const get = (kind: ServerKind, mode: PublishMode) => summary.find((s) => s.kind === kind && s.mode === mode)!
const memOf = (kind: ServerKind) => mem.find((m) => m.kind === kind)!

for (const mode of MODES) {
  console.log(
    `\nthroughput, ${mode} mode (${mode === 'tick' ? 'paced: one publish per macrotask' : 'as fast as accepted: window refilled at once'}),` +
      ` ${SUBSCRIBERS} subscribers, median of ${ROUNDS}:\n`,
  )
  const hand = get('hand', mode)
  const better = get('better', mode)
  printTable([
    [
      'server',
      'delivered events/s',
      'vs hand',
      'vs better-sse',
      'server CPU µs/event',
      'vs hand',
      'vs better-sse',
    ],
    ...KINDS.map((kind) => {
      const s = get(kind, mode)
      return [
        LABEL[kind],
        fmt(s.eventsPerSecond),
        `${fmt(s.eventsPerSecond / hand.eventsPerSecond, 2)}×`,
        `${fmt(s.eventsPerSecond / better.eventsPerSecond, 2)}×`,
        fmt(s.cpuMicrosPerEvent, 3),
        `${fmt(s.cpuMicrosPerEvent / hand.cpuMicrosPerEvent, 2)}×`,
        `${fmt(s.cpuMicrosPerEvent / better.cpuMicrosPerEvent, 2)}×`,
      ]
    }),
  ])
}
console.log(
  `\nmemory per idle subscriber at ${IDLE_SUBSCRIBERS} (after gc, delta over the warmed-up server):\n`,
)
printTable([
  ['server', 'RSS B/sub', 'vs hand', 'vs better-sse', 'heap B/sub', 'vs hand', 'vs better-sse'],
  ...KINDS.map((kind) => {
    const m = memOf(kind)
    const h = memOf('hand')
    const b = memOf('better')
    return [
      LABEL[kind],
      fmt(m.rssPerSubscriber),
      `${fmt(m.rssPerSubscriber / h.rssPerSubscriber, 2)}×`,
      `${fmt(m.rssPerSubscriber / b.rssPerSubscriber, 2)}×`,
      fmt(m.heapPerSubscriber),
      `${fmt(m.heapPerSubscriber / h.heapPerSubscriber, 2)}×`,
      `${fmt(m.heapPerSubscriber / b.heapPerSubscriber, 2)}×`,
    ]
  }),
])

const targets = MODES.map((mode) => ({
  mode,
  throughputVsHand: get('herald', mode).eventsPerSecond / get('hand', mode).eventsPerSecond,
  throughputVsBetter: get('herald', mode).eventsPerSecond / get('better', mode).eventsPerSecond,
}))
const memoryVsHand = memOf('herald').rssPerSubscriber / memOf('hand').rssPerSubscriber
console.log('\ntargets (issue 3):')
for (const t of targets) {
  console.log(
    `  ${t.mode}: Herald ≥ 0.95× hand-written throughput: ${fmt(t.throughputVsHand, 2)}× ${t.throughputVsHand >= 0.95 ? 'met' : 'MISSED'};` +
      ` ≥ 1.5× better-sse: ${fmt(t.throughputVsBetter, 2)}× ${t.throughputVsBetter >= 1.5 ? 'met' : 'MISSED'}`,
  )
}
console.log(
  `  Herald ≤ 1.1× hand-written memory per subscriber (RSS): ${fmt(memoryVsHand, 2)}× ${memoryVsHand <= 1.1 ? 'met' : 'MISSED'}`,
)
const path = saveResults('fanout', {
  config: { SUBSCRIBERS, IDLE_SUBSCRIBERS, DURATION_MS, WINDOW, ROUNDS, fdLimit },
  summary,
  targets: { throughput: targets, memoryVsHand },
  memory: mem,
  runs,
  elapsedMs: Date.now() - startedAt,
})
console.log(`\nraw results: ${path} (${fmt((Date.now() - startedAt) / 1000, 1)} s)`)
