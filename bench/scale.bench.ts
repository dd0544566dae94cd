// `pnpm bench:scale`: STREAMS (default 50,000) idle streams on one server process, for each server in
// KINDS (default node, herald-node over HTTP/1.1, then node-h2, herald-node-h2 over h2c). RSS and heap
// per stream, and the time for one event to reach them all (and half of them).
// Over HTTP/1.1 each stream is its own TCP connection, so each process needs a descriptor per stream:
// scale.sh raises `ulimit -n`, and where the hard limit is lower the HTTP/1.1 run holds as many streams
// as it allows. Its client spreads its sockets over loopback source addresses 127.0.0.2 and up (one
// address has about 28,000 ephemeral ports), a set of its own for each server.
// Over h2c (HTTP/2 without TLS, prior knowledge) STREAMS_PER_CONNECTION streams share each connection,
// so the full STREAMS fit in a few hundred descriptors and the hub's fan-out to all of them is measured
// wherever the bench runs.
import { execSync } from 'node:child_process'
import type { EventScanner } from './lib/frame-counter.ts'
import { connectH2 } from './lib/h2-client.ts'
import { closeAll, connect, quantile, ServerProcess, sleep, warmUp, withTimeout } from './lib/harness.ts'
import { saveResults } from './lib/results.ts'
import { H2_KINDS, H2_MAX_STREAMS_PER_CONNECTION, type ServerKind } from './lib/servers.ts'

/**
 * Streams per h2c connection: 200 connections for 50,000 streams, a few hundred descriptors in all. A
 * browser opens every EventSource to an origin on its one HTTP/2 connection, so many streams per
 * connection is the real case. 250 stays well inside the server's stream limit
 * (H2_MAX_STREAMS_PER_CONNECTION) and Node's default `maxSessionMemory` (see `listenH2`).
 */
const STREAMS_PER_CONNECTION = 250
if (STREAMS_PER_CONNECTION > H2_MAX_STREAMS_PER_CONNECTION)
  throw new Error('more streams than the server allows')

const REQUESTED = Number(process.env.STREAMS ?? 50_000)
const KINDS = (process.env.KINDS?.split(',') ?? [
  'node',
  'herald-node',
  'node-h2',
  'herald-node-h2',
]) as ServerKind[]
const fdLimit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim())
// Over HTTP/1.1 each process holds one descriptor per stream, plus a few hundred of its own.
const HTTP1_STREAMS = Math.min(REQUESTED, fdLimit - 1000)
if (HTTP1_STREAMS < REQUESTED && KINDS.some((k) => !H2_KINDS.includes(k))) {
  console.log(
    `ulimit -n is ${fdLimit} and cannot be raised here: ${HTTP1_STREAMS} HTTP/1.1 streams instead of ${REQUESTED}`,
  )
}
const ADDRESSES = Math.ceil(HTTP1_STREAMS / 20_000) + 1

/** Open streams of either transport: how to close them, and (h2c) the first failure seen on them. */
interface Streams {
  close(): void
  check(): void
}

/** Opens `n` streams to `server` over the transport of its kind. */
async function open(
  server: ServerProcess,
  n: number,
  onEvents: (s: EventScanner, before: number) => void = () => {},
  latencies?: number[],
): Promise<Streams> {
  if (H2_KINDS.includes(server.kind)) {
    return connectH2(server.port, n, STREAMS_PER_CONNECTION, onEvents, latencies, 300_000)
  }
  // Each server its own source addresses: the sockets of the run before linger in TIME_WAIT for 60 s on
  // theirs, and sharing them made the second server's connecting take that much longer.
  const first = 2 + KINDS.indexOf(server.kind) * ADDRESSES
  const streams = await connect(
    server.port,
    n,
    onEvents,
    (i) => ({ localAddress: `127.0.0.${first + (i % ADDRESSES)}`, latencies }),
    600_000,
  )
  return { close: () => closeAll(streams), check: () => {} }
}

const started = performance.now()
const results = []
for (const kind of KINDS) {
  const h2 = H2_KINDS.includes(kind)
  const n = h2 ? REQUESTED : HTTP1_STREAMS
  const server = await ServerProcess.start(kind)
  try {
    await warmUp(server, (count) => open(server, count))
    const before = await server.memory()
    const latencies: number[] = []
    let received = 0
    const t0 = performance.now()
    const streams = await open(
      server,
      n,
      () => {
        received++
      },
      latencies,
    )
    await server.waitForCount(n, 120_000)
    const connectSeconds = (performance.now() - t0) / 1000
    await sleep(500)
    const after = await server.memory()
    streams.check()
    // One event (rate mode publishes at once, then not again within 100 s).
    server.send({ type: 'run', window: 1, mode: 'rate', rate: 0.01 })
    await withTimeout(
      (async () => {
        while (received < n) {
          streams.check()
          await sleep(20)
        }
      })(),
      120_000,
      `${kind}: one event reaching ${n} streams (${received} so far)`,
    )
    await server.ask({ type: 'stop' }, 'stopped')
    streams.check()
    const r = {
      kind,
      transport: h2 ? ('h2c' as const) : ('http/1.1' as const),
      streams: n,
      streamsPerConnection: h2 ? STREAMS_PER_CONNECTION : 1,
      rssPerStream: (after.rss - before.rss) / n,
      heapPerStream: (after.heapUsed - before.heapUsed) / n,
      reachAllMs: quantile(latencies, 1) / 1000,
      reachHalfMs: quantile(latencies, 0.5) / 1000,
      connectSeconds,
      before,
      after,
    }
    results.push(r)
    console.log(
      `scale ${kind} (${r.transport}): ${n} streams in ${connectSeconds.toFixed(1)} s; RSS ${Math.round(r.rssPerStream)} B/stream,` +
        ` heap ${Math.round(r.heapPerStream)} B/stream; one event reached all in ${r.reachAllMs.toFixed(1)} ms (half in ${r.reachHalfMs.toFixed(1)} ms)`,
    )
    streams.close()
  } finally {
    await server.stop()
  }
}
const seconds = (performance.now() - started) / 1000
console.log(`scale: ${seconds.toFixed(0)} s in all`)
const config = {
  requested: REQUESTED,
  // The HTTP/1.1 runs' streams (h2c runs hold all of `requested`).
  streams: HTTP1_STREAMS,
  fdLimit,
  addresses: ADDRESSES,
  streamsPerConnection: STREAMS_PER_CONNECTION,
  seconds,
}
console.log(`raw results: ${saveResults('scale', { config, results })}`)
