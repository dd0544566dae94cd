// Fan-out over real sockets on 127.0.0.1: the hand-written node:http floor, Herald (hub + Node sink)
// and better-sse, side by side in one run. Each server runs in its own child process (its CPU is
// measured there with process.cpuUsage); this process is the client: raw sockets counting events.
//
// Throughput: the three servers run at once, each with SUBSCRIBERS streams, and take turns in short
// slices (SLICES × SLICE_MS per server and mode, the order rotating), so that changes in the machine's
// load hit all three alike. In a slice the server publishes as fast as it may while at most WINDOW
// events are not yet received by every subscriber (the client acknowledges over IPC); then the client
// waits until every subscriber has every event and checks each one's count and last id (or the run
// fails). Two publish modes: `burst` (as fast as accepted: the window is refilled in one go whenever
// acknowledgements free it; several events share a tick, so write coalescing counts) and `tick` (paced:
// one publish per macrotask, so no two events share a write: the bare per-event fan-out cost).
// Memory: IDLE_SUBSCRIBERS idle streams on a fresh server; RSS and heap (after gc) before and after.
import { type ChildProcess, execSync, fork } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command, PublishMode, Reply, ServerKind } from './lib/fanout-server.ts'
import { CountingStream } from './lib/frame-counter.ts'
import { fmt, printTable, saveResults } from './lib/results.ts'

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const SUBSCRIBERS = env('SUBSCRIBERS', 1000)
const IDLE_SUBSCRIBERS = env('IDLE_SUBSCRIBERS', 5000)
const SLICE_MS = env('SLICE_MS', 400)
const SLICES = env('SLICES', 10)
const WINDOW = env('WINDOW', 64)
const CONNECT_CONCURRENCY = 200
const MAX_EVENTS = 1_000_000 // bound on events per run, whatever the speed
const DRAIN_TIMEOUT_MS = 30_000
const KINDS: ServerKind[] = ['hand', 'herald', 'better']
// For profiling: SERVER_PROF_DIR=dir writes a .cpuprofile per server process there.
// RESULTS_NAME=fanout-tick saves under another name (default fanout).
const PROF_DIR = process.env.SERVER_PROF_DIR
const LABEL: Record<ServerKind, string> = {
  hand: 'hand-written node:http',
  herald: 'Herald (hub + node sink)',
  better: 'better-sse 0.16.1',
}
const MODES = (process.env.MODES?.split(',') ?? ['burst', 'tick']) as PublishMode[]

// One descriptor per stream in each process; the client holds the three servers' streams at once.
const fdLimit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim())
const needed = Math.max(3 * SUBSCRIBERS, IDLE_SUBSCRIBERS) + 200
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

interface Slice {
  kind: ServerKind
  mode: PublishMode
  slice: number
  events: number
  delivered: number
  wallMs: number
  eventsPerSecond: number
  serverCpuMicros: number
  cpuMicrosPerEvent: number
}

/** One server process and its SUBSCRIBERS client streams, kept for all slices. */
class Fleet {
  private constructor(
    readonly kind: ServerKind,
    readonly server: ServerProcess,
  ) {}
  streams: CountingStream[] = []
  // Smallest event count every subscriber has reached, kept incrementally:
  // reached[k] = subscribers that have received at least k events.
  private readonly reached = new Int32Array(MAX_EVENTS + 2)
  private minimum = 0
  private ackScheduled = false
  private onMinimum: (() => void) | undefined
  private published = 0

  static async open(kind: ServerKind): Promise<Fleet> {
    const fleet = new Fleet(kind, new ServerProcess(kind))
    const { port } = await fleet.server.next('listening')
    fleet.streams = await connect(port, SUBSCRIBERS, (s, before) => fleet.onEvents(s, before))
    await waitForCount(fleet.server, SUBSCRIBERS)
    return fleet
  }

  private onEvents(s: CountingStream, before: number): void {
    const upTo = Math.min(s.events, MAX_EVENTS + 1)
    for (let k = before + 1; k <= upTo; k++) this.reached[k]!++
    if (this.reached[this.minimum + 1] !== SUBSCRIBERS) return
    while (this.reached[this.minimum + 1] === SUBSCRIBERS) this.minimum++
    if (this.ackScheduled) return
    this.ackScheduled = true
    setImmediate(() => {
      this.ackScheduled = false
      this.server.send({ type: 'ack', seq: this.minimum })
      this.onMinimum?.()
    })
  }

  /** One measured slice: publish for SLICE_MS, then wait until every subscriber has every event. */
  async slice(mode: PublishMode, index: number): Promise<Slice> {
    const start = performance.now()
    this.server.send({ type: 'run', window: WINDOW, mode })
    await new Promise((r) => setTimeout(r, SLICE_MS))
    const { published } = await this.server.ask({ type: 'stop' }, 'stopped')
    if (published > MAX_EVENTS) throw new Error(`${this.kind}: published ${published} > ${MAX_EVENTS}`)
    await withTimeout(
      new Promise<void>((resolve) => {
        this.onMinimum = () => {
          if (this.minimum >= published) resolve()
        }
        this.onMinimum()
      }),
      DRAIN_TIMEOUT_MS,
      `${this.kind}: every subscriber receiving ${published} events (slowest at ${this.minimum})`,
    )
    this.onMinimum = undefined
    const wallMs = performance.now() - start
    const report = await this.server.ask({ type: 'report' }, 'report')
    // Every subscriber got exactly every event, the last one last.
    for (const s of this.streams) {
      if (s.events !== published)
        throw new Error(`${this.kind}: a subscriber got ${s.events} of ${published} events`)
      if (s.lastId() !== `bench-${published}`) {
        throw new Error(`${this.kind}: last id ${s.lastId()}, expected bench-${published}`)
      }
    }
    const events = published - this.published
    this.published = published
    const delivered = events * SUBSCRIBERS
    return {
      kind: this.kind,
      mode,
      slice: index,
      events,
      delivered,
      wallMs,
      eventsPerSecond: delivered / (wallMs / 1000),
      serverCpuMicros: report.cpuMicros,
      cpuMicrosPerEvent: report.cpuMicros / delivered,
    }
  }

  async close(): Promise<void> {
    closeAll(this.streams)
    await this.server.stop()
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
  `fanout: ${SUBSCRIBERS} subscribers per server, ${SLICES} slices of ${SLICE_MS} ms per server and mode, ` +
    `window ${WINDOW}; memory at ${IDLE_SUBSCRIBERS} idle subscribers; ulimit -n ${fdLimit}`,
)
const fleets: Fleet[] = []
const slices: Slice[] = []
try {
  for (const kind of KINDS) fleets.push(await Fleet.open(kind))
  for (const mode of MODES) {
    for (let i = 0; i < SLICES; i++) {
      // Rotate the order each slice so no server always runs first (or last) in a cycle.
      for (let k = 0; k < fleets.length; k++)
        slices.push(await fleets[(k + i) % fleets.length]!.slice(mode, i))
    }
    for (const kind of KINDS) {
      const mine = slices.filter((s) => s.kind === kind && s.mode === mode)
      const delivered = mine.reduce((a, s) => a + s.delivered, 0)
      const wall = mine.reduce((a, s) => a + s.wallMs, 0)
      const cpu = mine.reduce((a, s) => a + s.serverCpuMicros, 0)
      console.log(
        `  ${mode.padEnd(5)} ${LABEL[kind].padEnd(26)} ${fmt(delivered / (wall / 1000)).padStart(11)} events/s` +
          `  ${fmt(cpu / delivered, 3)} µs CPU/event  (${fmt(delivered / SUBSCRIBERS)} events in ${SLICES} slices)`,
      )
    }
  }
} finally {
  for (const f of fleets) await f.close()
}
const mem: MemoryResult[] = []
for (const kind of KINDS) {
  const m = await memory(kind)
  mem.push(m)
  console.log(
    `  memory ${LABEL[kind].padEnd(26)} RSS ${fmt(m.rssPerSubscriber)} B/sub, heap ${fmt(m.heapPerSubscriber)} B/sub`,
  )
}

type Summary = {
  kind: ServerKind
  mode: PublishMode
  eventsPerSecond: number
  cpuMicrosPerEvent: number
  /** Range over slices. */
  eventsPerSecondRange: [number, number]
  cpuMicrosPerEventRange: [number, number]
}
const summary: Summary[] = []
for (const mode of MODES) {
  for (const kind of KINDS) {
    const mine = slices.filter((s) => s.kind === kind && s.mode === mode)
    const delivered = mine.reduce((a, s) => a + s.delivered, 0)
    const eps = mine.map((s) => s.eventsPerSecond)
    const cpe = mine.map((s) => s.cpuMicrosPerEvent)
    summary.push({
      kind,
      mode,
      eventsPerSecond: delivered / (mine.reduce((a, s) => a + s.wallMs, 0) / 1000),
      cpuMicrosPerEvent: mine.reduce((a, s) => a + s.serverCpuMicros, 0) / delivered,
      eventsPerSecondRange: [Math.min(...eps), Math.max(...eps)],
      cpuMicrosPerEventRange: [Math.min(...cpe), Math.max(...cpe)],
    })
  }
}
/** Per-slice ratio of `kind` to `peer` (the slices of one cycle ran back to back): median, min, max. */
function pairedRatio(
  kind: ServerKind,
  peer: ServerKind,
  mode: PublishMode,
  key: 'eventsPerSecond' | 'cpuMicrosPerEvent',
) {
  const ratios: number[] = []
  for (let i = 0; i < SLICES; i++) {
    const a = slices.find((s) => s.kind === kind && s.mode === mode && s.slice === i)
    const b = slices.find((s) => s.kind === peer && s.mode === mode && s.slice === i)
    if (a && b) ratios.push(a[key] / b[key])
  }
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
}
const get = (kind: ServerKind, mode: PublishMode) => summary.find((s) => s.kind === kind && s.mode === mode)!
const memOf = (kind: ServerKind) => mem.find((m) => m.kind === kind)!

for (const mode of MODES) {
  console.log(
    `\nthroughput, ${mode} mode (${mode === 'tick' ? 'paced: one publish per macrotask' : 'as fast as accepted: window refilled at once'}),` +
      ` ${SUBSCRIBERS} subscribers, ${SLICES} slices of ${SLICE_MS} ms each:\n`,
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
  for (const peer of ['hand', 'better'] as const) {
    const r = pairedRatio('herald', peer, mode, 'eventsPerSecond')
    console.log(
      `  Herald / ${LABEL[peer]} events/s, slice by slice: median ${fmt(r.median, 2)}×` +
        ` (${fmt(r.min, 2)}–${fmt(r.max, 2)})`,
    )
  }
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
  pairedVsHand: pairedRatio('herald', 'hand', mode, 'eventsPerSecond'),
  pairedVsBetter: pairedRatio('herald', 'better', mode, 'eventsPerSecond'),
  cpuVsHand: pairedRatio('herald', 'hand', mode, 'cpuMicrosPerEvent'),
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
const path = saveResults(process.env.RESULTS_NAME ?? 'fanout', {
  config: { SUBSCRIBERS, IDLE_SUBSCRIBERS, SLICE_MS, SLICES, WINDOW, fdLimit },
  summary,
  targets: { throughput: targets, memoryVsHand },
  memory: mem,
  slices,
  elapsedMs: Date.now() - startedAt,
})
console.log(`\nraw results: ${path} (${fmt((Date.now() - startedAt) / 1000, 1)} s)`)
