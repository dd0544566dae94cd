// `pnpm bench` (about 8 minutes on 2 cores) or `pnpm bench --quick` (under 2): every scenario, one after
// another, then the report (docs/benchmarks.md and its charts) from the results. Knobs: ONLY=<scenario,...>.
import { execSync } from 'node:child_process'
import { saveResults } from './lib/results.ts'
import { churn, heapBreakdown, latency, memory, slowConsumers, throughput } from './lib/scenarios.ts'
import { KINDS, type ServerKind } from './lib/servers.ts'

const quick = process.argv.includes('--quick')
const only = process.env.ONLY?.split(',')
const wanted = (name: string) => !only || only.includes(name)

// Each group runs its servers side by side with the hand-written node:http floor, so every ratio to it
// comes from slices that ran back to back.
const GROUPS: Record<string, ServerKind[]> = {
  peers: ['node', 'herald-node', 'better-sse', 'fastify-sse'],
  express: ['node', 'express-floor', 'herald-express', 'express-sse'],
  koa: ['node', 'koa-floor', 'herald-koa'],
  hono: ['node', 'hono-floor', 'herald-hono', 'hono-sse'],
  h3: ['node', 'h3-floor', 'herald-h3', 'h3-sse'],
}

// GROUPS=express,koa and MODES=tick narrow the throughput run (for profiling with SERVER_PROF_DIR).
const groups = Object.fromEntries(
  Object.entries(GROUPS).filter(
    ([name]) => !process.env.GROUPS || process.env.GROUPS.split(',').includes(name),
  ),
)
const modes = (process.env.MODES?.split(',') ?? ['burst', 'tick']) as ('burst' | 'tick')[]

const fdLimit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim())
if (Number.isFinite(fdLimit) && fdLimit < 8000)
  throw new Error(`ulimit -n is ${fdLimit}; this bench needs 8,000`)

const started = Date.now()
const mode = quick ? 'quick' : 'full'
const step = (name: string) => console.log(`\n${name} (${((Date.now() - started) / 1000).toFixed(0)} s)`)

if (wanted('throughput')) {
  step('fan-out throughput, burst and paced')
  const r = await throughput(groups, {
    subscribers: quick ? 300 : 1000,
    slices: Number(process.env.SLICES ?? (quick ? 2 : 6)),
    sliceMs: quick ? 150 : 400,
    window: 64,
    modes,
  })
  saveResults('throughput', { mode, ...r })
}
if (wanted('latency')) {
  step('latency at 10 and 50 events/s')
  const r = await latency(
    ['node', 'herald-node', 'better-sse', 'herald-express', 'herald-koa', 'herald-hono', 'herald-h3'],
    {
      subscribers: quick ? 300 : 1000,
      rates: [10, 50],
      rounds: quick ? 1 : 4,
      blockMs: quick ? 600 : 2000,
    },
  )
  saveResults('latency', { mode, ...r })
}
// Each Herald adapter beside its framework's floor and that framework's own helper, at the same moment.
const MEMORY_BATCHES: ServerKind[][] = [
  ['node', 'herald-node', 'better-sse'],
  ['express-floor', 'herald-express', 'express-sse'],
  ['koa-floor', 'herald-koa', 'fastify-sse'],
  ['hono-floor', 'herald-hono', 'hono-sse'],
  ['h3-floor', 'herald-h3', 'h3-sse'],
]
if (wanted('memory')) {
  step('memory per idle subscriber')
  const missing = KINDS.filter((k) => !MEMORY_BATCHES.flat().includes(k))
  if (missing.length > 0) throw new Error(`memory batches leave out ${missing.join(', ')}`)
  const r = await memory(MEMORY_BATCHES, quick ? 500 : 5000, quick ? 1 : 3)
  saveResults('memory', { mode, ...r })
}
// Where each adapter's extra bytes go, from heap snapshots of it and of the server it is compared with.
// About a minute and a half, so only on request (`pnpm bench:heap`, ONLY=heap), not in the 10-minute run.
if (only?.includes('heap')) {
  step('heap snapshots: what each Herald server holds per stream beyond its floor')
  const pairs = MEMORY_BATCHES.map(([floor, herald]) => ({ floor: floor!, herald: herald! }))
  const r = await heapBreakdown(pairs, quick ? 500 : 2000)
  saveResults('heap', { mode, ...r })
}
if (wanted('slow')) {
  step('slow consumers: 200 readers + 5 never reading, 1 KiB events')
  const r = await slowConsumers(['node', 'herald-node', 'better-sse'], {
    readers: 200,
    stalled: 5,
    seconds: quick ? 1 : 5,
    warmMs: quick ? 300 : 1000,
    sliceMs: quick ? 250 : 500,
    bytes: 1024,
  })
  saveResults('slow', { mode, ...r })
}
if (wanted('churn')) {
  step('churn: connect/disconnect cycles')
  const r = await churn(['node', 'herald-node', 'herald-express'], {
    cycles: quick ? 1000 : 10_000,
    warm: quick ? 200 : 500,
    concurrency: 50,
  })
  saveResults('churn', { mode, ...r })
}
step('report')
await import('./report.ts')
console.log(`\ndone in ${((Date.now() - started) / 1000).toFixed(0)} s`)
