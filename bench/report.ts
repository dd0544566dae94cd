// Prints the results section of README.md (Markdown) from results/*-latest.json, so the published
// figures are exactly those of the last runs. Run: pnpm --filter @herald/bench run report
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmt } from './lib/results.ts'

const dir = join(dirname(fileURLToPath(import.meta.url)), 'results')
// biome-ignore lint/suspicious/noExplicitAny: the benches' own JSON, read back as written
type Json = any
const load = (name: string): Json => {
  const file = join(dir, `${name}-latest.json`)
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined
}
const x = (n: number) => `${fmt(n, 2)}×`
const table = (rows: string[][]) =>
  [
    `| ${rows[0]!.join(' | ')} |`,
    `|${rows[0]!.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')
const machine = (m: {
  date: string
  node: string
  cpu: string
  cores: number
  loadAverage?: number[]
  commit?: string
}) =>
  `${m.date.slice(0, 16).replace('T', ' ')} UTC, Node ${m.node}, ${m.cores} × ${m.cpu}` +
  (m.loadAverage ? `, load average ${m.loadAverage.join(' / ')}` : '') +
  (m.commit ? `, commit ${m.commit}` : '')

const out: string[] = []
const encode = load('encode')
if (encode) {
  out.push(`### encode (${machine(encode.machine)})`, '')
  out.push(
    table([
      ['event', 'encodeEvent ops/s', 'baseline ops/s', 'cost vs baseline', 'target'],
      ...encode.summary.map((s: Json) => [
        s.case,
        fmt(s.heraldOps),
        fmt(s.baselineOps),
        x(s.costRatio),
        s.target ? `≤ ${s.target}×: ${s.costRatio <= s.target ? 'met' : 'missed'}` : 'information',
      ]),
    ]),
    '',
  )
}
const fanout = load('fanout')
if (fanout) {
  const label: Record<string, string> = {
    hand: 'hand-written node:http',
    herald: 'Herald',
    better: 'better-sse',
  }
  const c = fanout.config
  out.push(
    `### fanout (${machine(fanout.machine)}; ${c.SUBSCRIBERS} subscribers per server, window ${c.WINDOW}, ${c.SLICES} slices of ${c.SLICE_MS} ms per server and mode)`,
    '',
  )
  for (const mode of ['burst', 'tick']) {
    const get = (kind: string) => fanout.summary.find((s: Json) => s.kind === kind && s.mode === mode)
    if (!get('hand')) continue
    const range = (r: [number, number], digits: number) => `${fmt(r[0], digits)}–${fmt(r[1], digits)}`
    out.push(
      mode === 'burst' ? '**burst** (as fast as accepted)' : '**tick** (paced: one publish per macrotask)',
      '',
    )
    out.push(
      table([
        [
          'server',
          'delivered events/s (slice range)',
          'vs hand-written',
          'vs better-sse',
          'server CPU µs/event (slice range)',
          'vs hand-written',
          'vs better-sse',
        ],
        ...['hand', 'herald', 'better'].map((kind) => [
          label[kind]!,
          `${fmt(get(kind).eventsPerSecond)} (${range(get(kind).eventsPerSecondRange, 0)})`,
          x(get(kind).eventsPerSecond / get('hand').eventsPerSecond),
          x(get(kind).eventsPerSecond / get('better').eventsPerSecond),
          `${fmt(get(kind).cpuMicrosPerEvent, 2)} (${range(get(kind).cpuMicrosPerEventRange, 2)})`,
          x(get(kind).cpuMicrosPerEvent / get('hand').cpuMicrosPerEvent),
          x(get(kind).cpuMicrosPerEvent / get('better').cpuMicrosPerEvent),
        ]),
      ]),
      '',
    )
    const t = fanout.targets.throughput.find((r: Json) => r.mode === mode)
    if (t?.pairedVsHand) {
      const p = (r: Json) => `median ${x(r.median)} (${x(r.min)}–${x(r.max)})`
      out.push(
        `Slice by slice (the three servers' slices of one cycle run back to back): Herald's events/s ${p(t.pairedVsHand)} the hand-written server's and ${p(t.pairedVsBetter)} better-sse's; its CPU per event ${p(t.cpuVsHand)} the hand-written server's.`,
        '',
      )
    }
  }
  const mem = (kind: string) => fanout.memory.find((m: Json) => m.kind === kind)
  if (mem('hand')) {
    out.push(`**memory** per idle subscriber at ${c.IDLE_SUBSCRIBERS} (after gc)`, '')
    out.push(
      table([
        [
          'server',
          'RSS bytes',
          'vs hand-written',
          'vs better-sse',
          'heap bytes',
          'vs hand-written',
          'vs better-sse',
        ],
        ...['hand', 'herald', 'better'].map((kind) => [
          label[kind]!,
          fmt(mem(kind).rssPerSubscriber),
          x(mem(kind).rssPerSubscriber / mem('hand').rssPerSubscriber),
          x(mem(kind).rssPerSubscriber / mem('better').rssPerSubscriber),
          fmt(mem(kind).heapPerSubscriber),
          x(mem(kind).heapPerSubscriber / mem('hand').heapPerSubscriber),
          x(mem(kind).heapPerSubscriber / mem('better').heapPerSubscriber),
        ]),
      ]),
      '',
    )
  }
}
const latency = load('latency')
if (latency) {
  out.push(`### latency (${machine(latency.machine)}; ${latency.config.EVENTS} events per adapter)`, '')
  const ref = latency.summary[0]
  out.push(
    table([
      [
        'adapter',
        'compression middleware',
        'stream encoding',
        'p50 ms',
        'p99 ms',
        'p50 vs node:http',
        'p99 vs node:http',
      ],
      ...latency.summary.map((s: Json) => [
        s.name,
        s.middleware,
        s.contentEncoding,
        fmt(s.p50, 3),
        fmt(s.p99, 3),
        x(s.p50 / ref.p50),
        x(s.p99 / ref.p99),
      ]),
    ]),
    '',
  )
  for (const s of latency.skipped) out.push(`Skipped ${s.name}: ${s.reason}`, '')
}
console.log(out.join('\n'))
