// The scenarios of `pnpm bench`. Each returns plain data (saved as JSON, read by the report).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CountingStream } from './frame-counter.ts'
import {
  closeAll,
  connect,
  Fleet,
  median,
  pairedRatio,
  quantile,
  ServerProcess,
  type Slice,
  sleep,
  warmUp,
  withTimeout,
} from './harness.ts'
import { type BreakdownRow, difference, type HeapTotals, heapTotals, perStream } from './heap-snapshot.ts'
import type { MemoryReply, PublishMode } from './server-process.ts'
import type { ServerKind } from './servers.ts'

const log = (line: string) => console.log(line)
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d

export interface ThroughputSummary {
  group: string
  kind: ServerKind
  mode: PublishMode
  eventsPerSecond: number
  cpuMicrosPerEvent: number
  /** Slice-by-slice ratios to the hand-written node:http server of the same group (median, min, max). */
  vsNode: { median: number; min: number; max: number }
  cpuVsNode: { median: number; min: number; max: number }
}

/**
 * Fan-out throughput: the servers of a group all hold `subscribers` streams and take turns in slices of
 * `sliceMs` (the order rotating), so a change in the machine's load hits them alike.
 */
export async function throughput(
  groups: Record<string, ServerKind[]>,
  config: { subscribers: number; slices: number; sliceMs: number; window: number; modes: PublishMode[] },
) {
  const slices: (Slice & { group: string })[] = []
  const summary: ThroughputSummary[] = []
  for (const [group, kinds] of Object.entries(groups)) {
    const fleets: Fleet[] = []
    const mine: Slice[] = []
    try {
      // Opened together (starting a server process is mostly waiting), measured in turns.
      const opened = await Promise.allSettled(kinds.map((kind) => Fleet.open(kind, config.subscribers)))
      for (const o of opened) if (o.status === 'fulfilled') fleets.push(o.value)
      for (const o of opened) if (o.status === 'rejected') throw o.reason
      for (const mode of config.modes) {
        for (let i = 0; i < config.slices; i++) {
          for (let k = 0; k < fleets.length; k++) {
            mine.push(await fleets[(k + i) % fleets.length]!.slice(mode, i, config.sliceMs, config.window))
          }
        }
      }
    } finally {
      for (const f of fleets) await f.close()
    }
    for (const mode of config.modes) {
      for (const kind of kinds) {
        const s = mine.filter((x) => x.kind === kind && x.mode === mode)
        const delivered = s.reduce((a, x) => a + x.delivered, 0)
        const row: ThroughputSummary = {
          group,
          kind,
          mode,
          eventsPerSecond: delivered / (s.reduce((a, x) => a + x.wallMs, 0) / 1000),
          cpuMicrosPerEvent: s.reduce((a, x) => a + x.serverCpuMicros, 0) / delivered,
          vsNode: pairedRatio(mine, kind, 'node', mode, 'eventsPerSecond'),
          cpuVsNode: pairedRatio(mine, kind, 'node', mode, 'cpuMicrosPerEvent'),
        }
        summary.push(row)
        log(
          `  ${group.padEnd(8)} ${mode.padEnd(5)} ${kind.padEnd(15)} ${Math.round(row.eventsPerSecond).toLocaleString('en-US').padStart(10)} events/s` +
            `  ${row.cpuMicrosPerEvent.toFixed(2)} µs CPU/event  ${row.vsNode.median.toFixed(2)}× node (${row.vsNode.min.toFixed(2)}–${row.vsNode.max.toFixed(2)})`,
        )
      }
    }
    slices.push(...mine.map((s) => ({ ...s, group })))
  }
  return { config, summary, slices }
}

export interface MemoryResult {
  kind: ServerKind
  subscribers: number
  rssPerSubscriber: number
  heapPerSubscriber: number
  before: MemoryReply
  after: MemoryReply
  /** Each run's figures (bytes per subscriber) when the scenario repeats. */
  runs?: { rss: number; heap: number }[]
}

/**
 * Memory per idle subscriber: RSS and heap after gc, before and after `idle` streams connect. `batches`
 * run side by side (each server's memory is its own process's, only the timing is shared), so a Herald
 * adapter is measured beside its framework's floor; the whole set runs `repeats` times and each server's
 * figures are the median of its runs (RSS moves with the allocator between runs; heap barely does).
 */
export async function memory(batches: ServerKind[][], idle: number, repeats = 1) {
  const runs = new Map<ServerKind, MemoryResult[]>()
  for (let round = 0; round < repeats; round++) {
    for (const kinds of batches) {
      const batch = await Promise.all(kinds.map((kind) => memoryOf(kind, idle)))
      for (const r of batch) {
        const list = runs.get(r.kind) ?? []
        list.push(r)
        runs.set(r.kind, list)
      }
    }
  }
  const results: MemoryResult[] = []
  for (const [kind, list] of runs) {
    const rss = median(list.map((r) => r.rssPerSubscriber))
    const heap = median(list.map((r) => r.heapPerSubscriber))
    // The run whose RSS is the median keeps its before/after snapshots.
    const mid = list.find((r) => r.rssPerSubscriber === rss) ?? list[0]!
    results.push({
      ...mid,
      rssPerSubscriber: rss,
      heapPerSubscriber: heap,
      runs: list.map((r) => ({ rss: r.rssPerSubscriber, heap: r.heapPerSubscriber })),
    })
    log(
      `  memory ${kind.padEnd(15)} RSS ${Math.round(rss)} B/sub, heap ${Math.round(heap)} B/sub` +
        (list.length > 1
          ? ` (median of ${list.length}; RSS ${list.map((r) => Math.round(r.rssPerSubscriber)).join(', ')})`
          : ''),
    )
  }
  return { idle, repeats, results }
}

/**
 * `take`s a reading of a fresh `kind` server before and after `idle` streams connect to it (after a
 * warm-up), then closes them and the server.
 */
async function aroundIdle<T>(
  kind: ServerKind,
  idle: number,
  take: (server: ServerProcess, when: 'before' | 'after') => Promise<T>,
): Promise<{ before: T; after: T }> {
  const server = await ServerProcess.start(kind)
  try {
    await warmUp(server)
    const before = await take(server, 'before')
    const streams = await connect(server.port, idle)
    await server.waitForCount(idle)
    await sleep(300)
    const after = await take(server, 'after')
    closeAll(streams)
    return { before, after }
  } finally {
    await server.stop()
  }
}

async function memoryOf(kind: ServerKind, idle: number): Promise<MemoryResult> {
  const { before, after } = await aroundIdle(kind, idle, (server) => server.memory())
  return {
    kind,
    subscribers: idle,
    rssPerSubscriber: (after.rss - before.rss) / idle,
    heapPerSubscriber: (after.heapUsed - before.heapUsed) / idle,
    before,
    after,
  }
}

export interface HeapBreakdown {
  herald: ServerKind
  floor: ServerKind
  /** Herald's server minus the floor's, per stream, by kind of object (see `heapTotals`). */
  rows: BreakdownRow[]
}

/**
 * Where Herald's extra memory per idle stream goes: each server of a pair takes a heap snapshot before and
 * after `idle` streams connect (after the same warm-up as `memory`); what each holds per stream, by kind of
 * object, is compared with the other's. The snapshots are deleted once read.
 */
export async function heapBreakdown(
  pairs: { floor: ServerKind; herald: ServerKind }[],
  idle: number,
): Promise<{ idle: number; pairs: HeapBreakdown[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-heap-'))
  try {
    const out: HeapBreakdown[] = []
    for (const pair of pairs) {
      const floor = await heapPerStream(pair.floor, idle, dir)
      const herald = await heapPerStream(pair.herald, idle, dir)
      const rows = difference(floor, herald)
      out.push({ ...pair, rows })
      const total = rows.reduce((sum, r) => sum + r.bytes, 0)
      log(`  heap ${pair.herald.padEnd(15)} ${Math.round(total)} B/stream more than ${pair.floor}`)
    }
    return { idle, pairs: out }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function heapPerStream(kind: ServerKind, idle: number, dir: string): Promise<HeapTotals> {
  const { before, after } = await aroundIdle(kind, idle, async (server, when) => {
    const { path } = await server.ask(
      { type: 'snapshot', path: join(dir, `${kind}-${when}.heapsnapshot`) },
      'snapshot',
      120_000,
    )
    const totals = heapTotals(path)
    rmSync(path, { force: true })
    return totals
  })
  return perStream(before, after, idle)
}

export interface LatencyResult {
  kind: ServerKind
  rate: number
  samples: number
  p50: number
  p90: number
  p99: number
  max: number
  /** Deciles and the tail (µs), for the distribution chart. */
  quantiles: { q: number; micros: number }[]
}

const QUANTILES = [0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]

/**
 * Publish-to-receipt latency at a fixed rate: each server holds `subscribers` streams; they take turns in
 * blocks of `blockMs`, `rounds` times per rate. The time is read from the event itself (the server's
 * publish time on the shared monotonic clock) when the client reads it.
 */
export async function latency(
  kinds: ServerKind[],
  config: { subscribers: number; rates: number[]; rounds: number; blockMs: number },
) {
  const collected = new Map<string, number[]>()
  const fleets: { fleet: Fleet; sink: number[] }[] = []
  try {
    // One after another: seven servers' 1,000 streams connecting at once overwhelm a loaded machine.
    for (const kind of kinds) {
      const sink: number[] = []
      fleets.push({ fleet: await Fleet.open(kind, config.subscribers, { latencies: sink }), sink })
    }
    for (const rate of config.rates) {
      for (let round = 0; round < config.rounds; round++) {
        for (let k = 0; k < fleets.length; k++) {
          const { fleet, sink } = fleets[(k + round) % fleets.length]!
          sink.length = 0
          fleet.server.send({ type: 'run', window: 1, mode: 'rate', rate })
          await sleep(config.blockMs)
          const { published } = await fleet.server.ask({ type: 'stop' }, 'stopped')
          await fleet.drained(published)
          const key = `${fleet.kind}@${rate}`
          const all = collected.get(key) ?? []
          for (const x of sink) all.push(x)
          collected.set(key, all)
        }
      }
    }
  } finally {
    for (const { fleet } of fleets) await fleet.close()
  }
  const results: LatencyResult[] = []
  for (const rate of config.rates) {
    for (const kind of kinds) {
      const xs = collected.get(`${kind}@${rate}`) ?? []
      const r: LatencyResult = {
        kind,
        rate,
        samples: xs.length,
        p50: quantile(xs, 0.5) / 1000,
        p90: quantile(xs, 0.9) / 1000,
        p99: quantile(xs, 0.99) / 1000,
        max: quantile(xs, 1) / 1000,
        quantiles: QUANTILES.map((q) => ({ q, micros: quantile(xs, q) })),
      }
      results.push(r)
      log(
        `  latency ${String(rate).padStart(3)}/s ${kind.padEnd(15)} p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  max ${r.max.toFixed(2)} ms  (${xs.length} samples)`,
      )
    }
  }
  return { config, results }
}

export interface SlowResult {
  kind: ServerKind
  stalled: number
  seconds: number
  published: number
  /** Server RSS and heap growth over the run (bytes, after gc). */
  rssGrowth: number
  heapGrowth: number
  readersP50: number
  readersP99: number
  /** The readers' p99 in each of the server's turns (ms), in order. */
  sliceP99: number[]
  /**
   * With stalled streams: each turn's p99 over the reference's turn that ran next to it (median, min,
   * max). One pause of the machine moves one pair, not the whole figure.
   */
  p99VsReference?: { median: number; min: number; max: number }
  /** Stalled streams the server still held at the end (the rest it disconnected). */
  stalledStillOpen: number
}

/** The slow-consumer scenario's settings, as saved with its results. */
export interface SlowConfig {
  readers: number
  stalled: number
  seconds: number
  bytes: number
  warmMs: number
  sliceMs: number
}

/**
 * Slow consumers: `readers` streams that read and `stalled` that never read, 1 KiB events as fast as the
 * readers accept; the same traffic without the stalled ones is the reference for the readers' latency.
 * Both run at once, on two server processes of the same kind, and take turns in slices of `sliceMs` (the
 * order alternating), for `seconds` each: a change in the machine's load hits both alike. Run one after
 * the other, the two p99s came from different seconds of a shared machine, and their ratio moved between
 * 0.5 and 2.3 from run to run for any server, Herald and the hand-written floor alike.
 */
export async function slowConsumers(kinds: ServerKind[], config: SlowConfig) {
  const results: SlowResult[] = []
  const slices = Math.max(1, Math.round((config.seconds * 1000) / config.sliceMs))
  for (const kind of kinds) {
    const runs = [0, config.stalled].map((stalled) => ({
      stalled,
      sink: [] as number[],
      published: 0,
      sliceP99: [] as number[],
    }))
    const fleets: Fleet[] = []
    try {
      const opened = await Promise.allSettled(
        runs.map((r) => Fleet.open(kind, config.readers, { latencies: r.sink })),
      )
      for (const o of opened) if (o.status === 'fulfilled') fleets.push(o.value)
      for (const o of opened) if (o.status === 'rejected') throw o.reason
      /** One turn of a fleet: publish for `ms`, stop, and wait until every reader has every event. */
      const turn = async (fleet: Fleet, ms: number) => {
        fleet.server.send({ type: 'run', window: 64, mode: 'burst', bytes: config.bytes })
        await sleep(ms)
        const { published } = await fleet.server.ask({ type: 'stop' }, 'stopped')
        await fleet.drained(published)
        return published
      }
      // Warm up first (the same traffic), so pools and compiled code are not counted as growth.
      for (const [k, r] of runs.entries()) {
        r.published = await turn(fleets[k]!, config.warmMs)
        r.sink.length = 0
      }
      for (const [k, r] of runs.entries()) {
        if (r.stalled) await fleets[k]!.addStalled(r.stalled)
        await fleets[k]!.server.waitForCount(config.readers + r.stalled)
      }
      const before = await Promise.all(fleets.map((f) => f.server.memory()))
      for (let i = 0; i < slices; i++) {
        for (let j = 0; j < runs.length; j++) {
          const k = (i + j) % runs.length
          const r = runs[k]!
          const from = r.sink.length
          await turn(fleets[k]!, config.sliceMs)
          r.sliceP99.push(quantile(r.sink.slice(from), 0.99) / 1000)
        }
      }
      const reference = runs[0]!.sliceP99
      const referenceP99 = quantile(runs[0]!.sink, 0.99) / 1000
      for (const [k, r] of runs.entries()) {
        const fleet = fleets[k]!
        const { published } = await fleet.server.ask({ type: 'stop' }, 'stopped')
        const after = await fleet.server.memory()
        const { count } = await fleet.server.ask({ type: 'count' }, 'count')
        const result: SlowResult = {
          kind,
          stalled: r.stalled,
          seconds: config.seconds,
          published: published - r.published,
          rssGrowth: after.rss - before[k]!.rss,
          heapGrowth: after.heapUsed - before[k]!.heapUsed,
          readersP50: quantile(r.sink, 0.5) / 1000,
          readersP99: quantile(r.sink, 0.99) / 1000,
          sliceP99: r.sliceP99.map((ms) => round(ms)),
          stalledStillOpen: count - config.readers,
        }
        if (r.stalled) {
          const ratios = r.sliceP99.map((ms, i) => ms / reference[i]!)
          result.p99VsReference = {
            median: round(median(ratios), 3),
            min: round(Math.min(...ratios), 3),
            max: round(Math.max(...ratios), 3),
          }
        }
        results.push(result)
        log(
          `  slow ${kind.padEnd(12)} stalled ${r.stalled}: ${result.published} events, RSS +${(result.rssGrowth / 2 ** 20).toFixed(1)} MiB, heap +${(result.heapGrowth / 2 ** 20).toFixed(1)} MiB,` +
            ` readers p99 ${result.readersP99.toFixed(2)} ms` +
            (result.p99VsReference
              ? ` (${(result.readersP99 / referenceP99).toFixed(2)}x overall, turn by turn median ${result.p99VsReference.median.toFixed(2)}x)`
              : '') +
            `, stalled still open ${result.stalledStillOpen}`,
        )
      }
    } finally {
      for (const f of fleets) await f.close()
    }
  }
  return { config, results }
}

export interface ChurnResult {
  kind: ServerKind
  cycles: number
  connectsPerSecond: number
  before: MemoryReply
  after: MemoryReply
  /** How long after the last cycle the server's memory settled (ms), or -1 if it did not within the bound. */
  settleMs: number
  rssGrowth: number
  heapGrowth: number
  subscribersLeft: number
}

/** Churn: `cycles` connect (until headers) / disconnect cycles, `concurrency` at a time. */
export async function churn(
  kinds: ServerKind[],
  config: { cycles: number; concurrency: number; warm: number },
) {
  const results: ChurnResult[] = []
  for (const kind of kinds) {
    const server = await ServerProcess.start(kind)
    try {
      const cycles = async (n: number) => {
        let started = 0
        let done = 0
        await withTimeout(
          new Promise<void>((resolve, reject) => {
            const next = () => {
              if (started >= n) return
              started++
              const s: CountingStream = new CountingStream(
                server.port,
                '/events?topic=bench',
                () => {
                  s.socket.destroy()
                  if (++done === n) resolve()
                  else next()
                },
                () => {},
                (_s, error) => reject(error),
              )
            }
            for (let i = 0; i < Math.min(config.concurrency, n); i++) next()
          }),
          300_000,
          `${kind}: ${n} connect/disconnect cycles (${done} done)`,
        )
      }
      await cycles(config.warm)
      await server.waitForCount(0)
      await sleep(200)
      const before = await server.memory()
      const t0 = performance.now()
      await cycles(config.cycles)
      const elapsed = performance.now() - t0
      await server.waitForCount(0)
      // Settle: within 5% of before, checked every 250 ms for up to 5 s.
      const settleStart = performance.now()
      let after = await server.memory()
      let settleMs = -1
      for (;;) {
        if (after.rss <= before.rss * 1.05 && after.heapUsed <= before.heapUsed * 1.05) {
          settleMs = performance.now() - settleStart
          break
        }
        if (performance.now() - settleStart > 5000) break
        await sleep(250)
        after = await server.memory()
      }
      const { count } = await server.ask({ type: 'count' }, 'count')
      const r: ChurnResult = {
        kind,
        cycles: config.cycles,
        connectsPerSecond: config.cycles / (elapsed / 1000),
        before,
        after,
        settleMs,
        rssGrowth: (after.rss - before.rss) / before.rss,
        heapGrowth: (after.heapUsed - before.heapUsed) / before.heapUsed,
        subscribersLeft: count,
      }
      results.push(r)
      log(
        `  churn ${kind.padEnd(15)} ${Math.round(r.connectsPerSecond)} connects/s, RSS ${(r.rssGrowth * 100).toFixed(1)}%, heap ${(r.heapGrowth * 100).toFixed(1)}%,` +
          ` handles ${before.handles} → ${after.handles}, subscribers left ${count}`,
      )
    } finally {
      await server.stop()
    }
  }
  return { config, results }
}

export { median, round }
