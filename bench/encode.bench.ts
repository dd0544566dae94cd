// Encoder cost against the floor: building "data: " + s + "\n\n" and Buffer.from of it.
// Target (issue 2): encodeEvent({ data: s }) for a 128-byte single-line s costs ≤ 1.3× the baseline.
// Method, chosen for a shared 2-core machine:
// - one task call encodes BATCH events, so a timed sample (~100 µs) is far above timer resolution;
// - the speed is taken from the median sample, so samples hit by preemption do not count;
// - both sides cycle through 64 distinct payloads: with one constant string the engine hoists the
//   baseline's concatenation out of the loop and flattens it once, which no real server gets;
// - several rounds in alternating order, and the median of the per-round ratios is reported.
import { encodeEvent } from '@herald/sse-core'
import { Bench } from 'tinybench'
import { fmt, printTable, saveResults } from './lib/results.ts'

const BATCH = 1000
const ROUNDS = Number(process.env.ROUNDS ?? 7)
const TIME_MS = Number(process.env.TIME_MS ?? 300)
// `cpu` (default) times samples with this process's CPU time, which time spent descheduled by other
// load on the machine does not inflate; `wall` uses the high-resolution wall clock.
const CLOCK = process.env.CLOCK ?? 'cpu'
const cpuNow = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

// 64 distinct 128-byte single-line JSON payloads (ASCII, no line breaks), and the same split over 4 lines.
const payloads = Array.from({ length: 64 }, (_, k) => {
  const base = JSON.stringify({ type: 'progress', build: 1000 + k, step: 'compile', pct: k, note: '' })
  return base.slice(0, -2) + 'x'.repeat(128 - base.length) + base.slice(-2)
})
const multis = payloads.map((s) => [s.slice(0, 32), s.slice(32, 64), s.slice(64, 96), s.slice(96)].join('\n'))
for (const s of payloads) if (Buffer.byteLength(s) !== 128) throw new Error(`payload ${s} is not 128 bytes`)
const s128 = payloads[0]!
const multi = multis[0]!

let sink = 0 // consumed after the run so no engine can drop the work
const baseline = (s: string) => Buffer.from(`data: ${s}\n\n`)

const cases = [
  {
    name: 'single line, 128 B',
    herald: () => {
      for (let i = 0; i < BATCH; i++) sink += encodeEvent({ data: payloads[i & 63]! }).length
    },
    baseline: () => {
      for (let i = 0; i < BATCH; i++) sink += baseline(payloads[i & 63]!).length
    },
    target: 1.3,
  },
  {
    name: 'multi-line (4 lines), 128 B',
    herald: () => {
      for (let i = 0; i < BATCH; i++) sink += encodeEvent({ data: multis[i & 63]! }).length
    },
    // What a hand-written server would write for 4 LF-separated lines (it would not handle CR).
    baseline: () => {
      for (let i = 0; i < BATCH; i++) {
        sink += Buffer.from(`data: ${multis[i & 63]!.split('\n').join('\ndata: ')}\n\n`).length
      }
    },
  },
  {
    name: 'id + event + 128 B',
    herald: () => {
      for (let i = 0; i < BATCH; i++) {
        sink += encodeEvent({ id: 1000 + i, event: 'progress', data: payloads[i & 63]! }).length
      }
    },
    baseline: () => {
      for (let i = 0; i < BATCH; i++) {
        sink += Buffer.from(`event: progress\nid: ${1000 + i}\ndata: ${payloads[i & 63]!}\n\n`).length
      }
    },
  },
]

// Sanity: both sides produce the same bytes, so the comparison is like for like.
for (const [msg, expected] of [
  [{ data: s128 }, baseline(s128)],
  [{ data: multi }, Buffer.from(`data: ${multi.split('\n').join('\ndata: ')}\n\n`)],
  [{ id: 7, event: 'progress', data: s128 }, Buffer.from(`event: progress\nid: 7\ndata: ${s128}\n\n`)],
] as const) {
  if (!Buffer.from(encodeEvent(msg)).equals(expected))
    throw new Error(`encodeEvent output differs for ${JSON.stringify(msg)}`)
}

type Row = { case: string; round: number; heraldOps: number; baselineOps: number; ratio: number }
const rows: Row[] = []
for (let round = 1; round <= ROUNDS; round++) {
  const bench = new Bench({ time: TIME_MS, warmupTime: 200, now: CLOCK === 'cpu' ? cpuNow : undefined })
  // Alternate the order each round so neither side always runs on a warmer or colder engine.
  for (const c of cases) {
    if (round % 2) bench.add(`herald|${c.name}`, c.herald).add(`baseline|${c.name}`, c.baseline)
    else bench.add(`baseline|${c.name}`, c.baseline).add(`herald|${c.name}`, c.herald)
  }
  await bench.run()
  const ops = (name: string) => {
    const r = bench.getTask(name)?.result
    if (!r || !('latency' in r)) throw new Error(`task ${name} did not complete`)
    return (BATCH * 1000) / r.latency.p50
  }
  for (const c of cases) {
    const heraldOps = ops(`herald|${c.name}`)
    const baselineOps = ops(`baseline|${c.name}`)
    rows.push({ case: c.name, round, heraldOps, baselineOps, ratio: baselineOps / heraldOps })
  }
}

const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y)
  return a[Math.floor(a.length / 2)]!
}
const summary = cases.map((c) => {
  const mine = rows.filter((r) => r.case === c.name)
  return {
    case: c.name,
    heraldOps: median(mine.map((r) => r.heraldOps)),
    baselineOps: median(mine.map((r) => r.baselineOps)),
    // Cost ratio: time per encodeEvent / time per baseline (1.0 = as cheap as the baseline).
    costRatio: median(mine.map((r) => r.ratio)),
    target: c.target,
  }
})

console.log(
  `\nencode: median of ${ROUNDS} rounds, ${TIME_MS} ms per task; ops/s = events per second at the median sample\n`,
)
printTable([
  ['case', 'encodeEvent ops/s', 'baseline ops/s', 'cost ratio', 'target'],
  ...summary.map((s) => [
    s.case,
    fmt(s.heraldOps),
    fmt(s.baselineOps),
    `${fmt(s.costRatio, 2)}×`,
    s.target ? `≤ ${s.target}× ${s.costRatio <= s.target ? 'met' : 'MISSED'}` : 'info',
  ]),
])
const path = saveResults('encode', { batch: BATCH, rounds: ROUNDS, timeMs: TIME_MS, summary, rows, sink })
console.log(`\nraw results: ${path}`)
