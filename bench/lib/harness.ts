// The client side every scenario shares: server child processes driven over IPC, and raw-socket streams.
import { type ChildProcess, fork } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CountingStream, type StreamOptions } from './frame-counter.ts'
import type { Command, PublishMode, Reply } from './server-process.ts'
import type { ServerKind } from './servers.ts'

const here = dirname(fileURLToPath(import.meta.url))
const CONNECT_CONCURRENCY = 200

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Rejects after `ms` (every step of a bench is bounded in time). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
    }),
  ])
}

/** A server child process with a request/reply helper over IPC. */
export class ServerProcess {
  readonly child: ChildProcess
  private waiters: { type: Reply['type']; resolve: (r: Reply) => void }[] = []
  port = 0

  private constructor(readonly kind: ServerKind) {
    const prof = process.env.SERVER_PROF_DIR
    this.child = fork(join(here, 'server-process.ts'), [kind], {
      execArgv: [
        '--import',
        'tsx',
        '--conditions=@herald/source',
        '--expose-gc',
        ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${join(prof, `${kind}-${Date.now()}`)}`] : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.child.on('message', (reply: Reply) => {
      const i = this.waiters.findIndex((w) => w.type === reply.type)
      if (i !== -1) this.waiters.splice(i, 1)[0]!.resolve(reply)
    })
  }

  static async start(kind: ServerKind): Promise<ServerProcess> {
    const server = new ServerProcess(kind)
    const exited = new Promise<never>((_, reject) =>
      server.child.once('exit', (code) =>
        reject(new Error(`${kind} server exited (${code}) before listening`)),
      ),
    )
    server.port = (await Promise.race([server.next('listening', 30_000), exited])).port
    return server
  }

  next<T extends Reply['type']>(type: T, ms = 20_000): Promise<Extract<Reply, { type: T }>> {
    const p = new Promise<Reply>((resolve) => this.waiters.push({ type, resolve }))
    return withTimeout(p as Promise<Extract<Reply, { type: T }>>, ms, `${this.kind} server reply ${type}`)
  }
  send(cmd: Command): void {
    // A late acknowledgement to a server already stopped is dropped (its fleet is closing).
    if (this.child.connected) this.child.send(cmd)
  }
  /** Sends `cmd` and waits for the reply of type `replyType`. */
  ask<T extends Reply['type']>(
    cmd: Command,
    replyType: T,
    ms?: number,
  ): Promise<Extract<Reply, { type: T }>> {
    const p = this.next(replyType, ms)
    this.send(cmd)
    return p
  }
  memory() {
    return this.ask({ type: 'memory' }, 'memory', 60_000)
  }
  async waitForCount(n: number, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms
    for (;;) {
      const { count } = await this.ask({ type: 'count' }, 'count')
      if (count === n) return
      if (Date.now() > deadline) throw new Error(`${this.kind}: ${count} subscribers, expected ${n}`)
      await sleep(50)
    }
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    // Closing the IPC channel makes the server exit by itself (and write its CPU profile, if any).
    if (this.child.connected) this.child.disconnect()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
}

/** Opens `n` streams, at most CONNECT_CONCURRENCY connecting at once; resolves when all have headers. */
export async function connect(
  port: number,
  n: number,
  onEvents: (s: CountingStream, before: number) => void = () => {},
  options: (i: number) => StreamOptions = () => ({}),
  ms = 120_000,
): Promise<CountingStream[]> {
  const streams: CountingStream[] = []
  let failed: Error | undefined
  let opened = 0
  const opening = new Promise<void>((resolve, reject) => {
    let started = 0
    const startNext = () => {
      if (failed || started >= n) return
      const i = started++
      streams.push(
        new CountingStream(
          port,
          '/events?topic=bench',
          () => {
            opened++
            if (opened === n) resolve()
            else startNext()
          },
          onEvents,
          (_s, error) => {
            failed ??= error
            reject(error)
          },
          options(i),
        ),
      )
    }
    if (n === 0) resolve()
    for (let i = 0; i < Math.min(CONNECT_CONCURRENCY, n); i++) startNext()
  })
  try {
    await withTimeout(opening, ms, `connecting ${n} streams (${opened} open)`)
  } catch (error) {
    closeAll(streams)
    throw error
  }
  return streams
}

export function closeAll(streams: CountingStream[]): void {
  for (const s of streams) s.socket.destroy()
}

/**
 * Opens 200 streams and closes them, so compiled code and pools are already in a baseline taken next, not
 * in the delta. `open` opens them (default: raw HTTP/1.1 streams to the server's port).
 */
export async function warmUp(
  server: ServerProcess,
  open: (n: number) => Promise<{ close(): void }> = async (n) => {
    const streams = await connect(server.port, n)
    return { close: () => closeAll(streams) }
  },
): Promise<void> {
  const warm = await open(200)
  await server.waitForCount(200)
  warm.close()
  await server.waitForCount(0)
  await sleep(200)
}

/** Slice of a throughput run: one server publishing for a while, then every subscriber has every event. */
export interface Slice {
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

const MAX_EVENTS = 2_000_000

/** One server process and its client streams, kept for all of a run's slices. */
export class Fleet {
  streams: CountingStream[] = []
  // reached[k] = subscribers that have received at least k events; `minimum`: what every one has.
  private readonly reached: Int32Array
  minimum = 0
  private ackScheduled = false
  private onMinimum: (() => void) | undefined
  private published = 0
  private readonly readers: number

  private constructor(
    readonly server: ServerProcess,
    readonly subscribers: number,
    maxEvents: number,
  ) {
    this.reached = new Int32Array(maxEvents + 2)
    this.readers = subscribers
  }

  get kind(): ServerKind {
    return this.server.kind
  }

  /** Starts a server of `kind` and connects `subscribers` readers (and `stalled` that never read). */
  static async open(
    kind: ServerKind,
    subscribers: number,
    options: { latencies?: number[]; stalled?: number; maxEvents?: number } = {},
  ): Promise<Fleet> {
    const server = await ServerProcess.start(kind)
    const fleet = new Fleet(server, subscribers, options.maxEvents ?? MAX_EVENTS)
    try {
      fleet.streams = await connect(
        server.port,
        subscribers,
        (s, before) => fleet.onEvents(s, before),
        () => ({ latencies: options.latencies }),
      )
      if (options.stalled) await fleet.addStalled(options.stalled)
      await server.waitForCount(subscribers + (options.stalled ?? 0))
    } catch (error) {
      await fleet.close()
      throw error
    }
    return fleet
  }

  /** Connects `n` streams that never read after their headers. */
  async addStalled(n: number): Promise<void> {
    this.streams.push(
      ...(await connect(
        this.server.port,
        n,
        () => {},
        () => ({ stall: true }),
      )),
    )
  }

  private onEvents(s: CountingStream, before: number): void {
    const upTo = Math.min(s.events, this.reached.length - 1)
    for (let k = before + 1; k <= upTo; k++) this.reached[k]!++
    if (this.reached[this.minimum + 1] !== this.readers) return
    while (this.reached[this.minimum + 1] === this.readers) this.minimum++
    if (this.ackScheduled) return
    this.ackScheduled = true
    setImmediate(() => {
      this.ackScheduled = false
      this.server.send({ type: 'ack', seq: this.minimum })
      this.onMinimum?.()
    })
  }

  /** Waits until every reader has `published` events. */
  async drained(published: number, ms = 30_000): Promise<void> {
    await withTimeout(
      new Promise<void>((resolve) => {
        this.onMinimum = () => {
          if (this.minimum >= published) resolve()
        }
        this.onMinimum()
      }),
      ms,
      `${this.kind}: every subscriber receiving ${published} events (slowest at ${this.minimum})`,
    )
    this.onMinimum = undefined
  }

  /** One measured slice: publish for `ms`, then wait until every subscriber has every event, and check. */
  async slice(mode: PublishMode, index: number, ms: number, window: number): Promise<Slice> {
    const start = performance.now()
    this.server.send({ type: 'run', window, mode })
    await sleep(ms)
    const { published } = await this.server.ask({ type: 'stop' }, 'stopped')
    if (published >= this.reached.length - 1)
      throw new Error(`${this.kind}: published ${published}, too many`)
    await this.drained(published)
    const wallMs = performance.now() - start
    const report = await this.server.ask({ type: 'report' }, 'report')
    // Every subscriber got exactly every event, the last one last.
    for (const s of this.streams) {
      if (s.events !== published)
        throw new Error(`${this.kind}: a subscriber got ${s.events} of ${published} events`)
      if (published > 0 && s.lastSeq() !== published)
        throw new Error(`${this.kind}: last event ${s.lastSeq()}, expected ${published}`)
    }
    const events = published - this.published
    this.published = published
    const delivered = events * this.subscribers
    return {
      kind: this.kind,
      mode,
      slice: index,
      events,
      delivered,
      wallMs,
      eventsPerSecond: delivered / (wallMs / 1000),
      serverCpuMicros: report.cpuMicros,
      cpuMicrosPerEvent: report.cpuMicros / Math.max(1, delivered),
    }
  }

  async close(): Promise<void> {
    closeAll(this.streams)
    await this.server.stop()
  }
}

export const median = (xs: number[]) => quantile(xs, 0.5)

/** The q-quantile (nearest rank) of `xs`. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN
  const a = Float64Array.from(xs).sort()
  return a[Math.min(a.length - 1, Math.max(0, Math.ceil(q * a.length) - 1))]!
}

/** The slice-by-slice ratio of `a` to `b` (same index, same mode: they ran back to back): median, min, max. */
export function pairedRatio(
  slices: Slice[],
  a: ServerKind,
  b: ServerKind,
  mode: PublishMode,
  key: 'eventsPerSecond' | 'cpuMicrosPerEvent',
) {
  const ratios: number[] = []
  for (const x of slices) {
    if (x.kind !== a || x.mode !== mode) continue
    const y = slices.find((s) => s.kind === b && s.mode === mode && s.slice === x.slice)
    if (y) ratios.push(x[key] / y[key])
  }
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
}
