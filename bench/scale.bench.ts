// `pnpm bench:scale`: STREAMS (default 50,000) idle streams on one server process, for each server in
// KINDS (default node, herald-node). RSS and heap per stream, and the time for one event to reach them
// all. The client spreads its sockets over loopback source addresses 127.0.0.2 and up (one address has
// about 28,000 ephemeral ports). Run through scale.sh, which raises `ulimit -n`.
import { execSync } from 'node:child_process'
import { closeAll, connect, quantile, ServerProcess, sleep, withTimeout } from './lib/harness.ts'
import { saveResults } from './lib/results.ts'
import type { ServerKind } from './lib/servers.ts'

const REQUESTED = Number(process.env.STREAMS ?? 50_000)
const KINDS = (process.env.KINDS?.split(',') ?? ['node', 'herald-node']) as ServerKind[]
const fdLimit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim())
// Each process holds one descriptor per stream, plus a few hundred of its own.
const STREAMS = Math.min(REQUESTED, fdLimit - 1000)
if (STREAMS < REQUESTED) {
  console.log(`ulimit -n is ${fdLimit} and cannot be raised here: ${STREAMS} streams instead of ${REQUESTED}`)
}
const ADDRESSES = Math.ceil(STREAMS / 20_000) + 1

const results = []
for (const kind of KINDS) {
  const server = await ServerProcess.start(kind)
  try {
    const warm = await connect(server.port, 200)
    await server.waitForCount(200)
    closeAll(warm)
    await server.waitForCount(0)
    await sleep(200)
    const before = await server.memory()
    const latencies: number[] = []
    let received = 0
    const t0 = performance.now()
    const streams = await connect(
      server.port,
      STREAMS,
      () => {
        received++
      },
      (i) => ({ localAddress: `127.0.0.${2 + (i % ADDRESSES)}`, latencies }),
      600_000,
    )
    await server.waitForCount(STREAMS, 120_000)
    const connectSeconds = (performance.now() - t0) / 1000
    await sleep(500)
    const after = await server.memory()
    // One event (rate mode publishes at once, then not again within 100 s).
    server.send({ type: 'run', window: 1, mode: 'rate', rate: 0.01 })
    await withTimeout(
      (async () => {
        while (received < STREAMS) await sleep(20)
      })(),
      120_000,
      `${kind}: one event reaching ${STREAMS} streams (${received} so far)`,
    )
    await server.ask({ type: 'stop' }, 'stopped')
    const r = {
      kind,
      streams: STREAMS,
      rssPerStream: (after.rss - before.rss) / STREAMS,
      heapPerStream: (after.heapUsed - before.heapUsed) / STREAMS,
      reachAllMs: quantile(latencies, 1) / 1000,
      reachHalfMs: quantile(latencies, 0.5) / 1000,
      connectSeconds,
      before,
      after,
    }
    results.push(r)
    console.log(
      `scale ${kind}: ${STREAMS} streams in ${connectSeconds.toFixed(1)} s; RSS ${Math.round(r.rssPerStream)} B/stream,` +
        ` heap ${Math.round(r.heapPerStream)} B/stream; one event reached all in ${r.reachAllMs.toFixed(1)} ms (half in ${r.reachHalfMs.toFixed(1)} ms)`,
    )
    closeAll(streams)
  } finally {
    await server.stop()
  }
}
console.log(
  `raw results: ${saveResults('scale', { config: { requested: REQUESTED, streams: STREAMS, fdLimit, addresses: ADDRESSES }, results })}`,
)
