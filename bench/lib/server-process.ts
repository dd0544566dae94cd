// One bench server in its own process, so its CPU and memory are its own: `server-process.ts <kind>`.
// The bench process drives it over IPC (Command / Reply below). Only 127.0.0.1 is ever bound.
import { writeHeapSnapshot } from 'node:v8'
import { EPOCH, type ServerKind, startServer } from './servers.ts'

/**
 * burst: whenever acknowledgements free the window, refill it at once (several events share a tick);
 * tick: one publish per macrotask (no two events share a write); rate: `rate` events per second on a timer.
 */
export type PublishMode = 'burst' | 'tick' | 'rate'

export type Command =
  | { type: 'count' }
  | { type: 'run'; window: number; mode: PublishMode; bytes?: number; rate?: number }
  | { type: 'ack'; seq: number }
  | { type: 'stop' }
  | { type: 'report' }
  | { type: 'memory' }
  /** Write a heap snapshot of this process to `path`. */
  | { type: 'snapshot'; path: string }

export interface MemoryReply {
  type: 'memory'
  rss: number
  heapUsed: number
  external: number
  arrayBuffers: number
  /** Active libuv handles (sockets, timers, servers): a leak shows here. */
  handles: number
}
export type Reply =
  | { type: 'listening'; port: number }
  | { type: 'count'; count: number }
  | { type: 'stopped'; published: number }
  | { type: 'report'; cpuMicros: number; wallMs: number; published: number }
  | MemoryReply
  | { type: 'snapshot'; path: string }

const kind = process.argv[2] as ServerKind
const send = (reply: Reply) => process.send!(reply)

/**
 * The payload of event `seq`, `bytes` long: JSON with the sequence number and the publish time (`t`, µs on
 * the monotonic clock, which every process on the machine shares, so the client can time the delivery).
 */
export function payload(seq: number, bytes: number): string {
  const base = JSON.stringify({ seq, t: Math.round(Number(process.hrtime.bigint()) / 1000), note: '' })
  return base.slice(0, -2) + 'x'.repeat(Math.max(0, bytes - base.length)) + base.slice(-2)
}

const impl = await startServer(kind)
send({ type: 'listening', port: impl.port })

let published = 0
let acked = 0
let window = 64
let bytes = 128
let rate = 10
let mode: PublishMode = 'tick'
let running = false
let scheduled = false
let timer: NodeJS.Timeout | undefined
let cpuStart = process.cpuUsage()
let wallStart = 0

function publishNext(): void {
  published++
  const data = payload(published, bytes)
  impl.publish(published, data, Buffer.from(`id: ${EPOCH}-${published}\ndata: ${data}\n\n`))
}

function pump(): void {
  scheduled = false
  if (!running) return
  if (mode === 'tick') {
    if (published - acked < window) {
      publishNext()
      schedule()
    }
  } else if (mode === 'burst') {
    while (published - acked < window) publishNext()
  }
}
function schedule(): void {
  if (!scheduled && mode !== 'rate') {
    scheduled = true
    setImmediate(pump)
  }
}
function paced(): void {
  if (!running) return
  publishNext()
  timer = setTimeout(paced, 1000 / rate)
}

const gc = (globalThis as { gc?: () => void }).gc
const activeHandles = () =>
  (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo().length
process.on('message', (cmd: Command) => {
  switch (cmd.type) {
    case 'count':
      send({ type: 'count', count: impl.count() })
      break
    case 'run':
      window = cmd.window
      mode = cmd.mode
      bytes = cmd.bytes ?? 128
      rate = cmd.rate ?? 10
      running = true
      cpuStart = process.cpuUsage()
      wallStart = performance.now()
      if (mode === 'rate') paced()
      else schedule()
      break
    case 'ack':
      if (cmd.seq > acked) acked = cmd.seq
      if (running) schedule()
      break
    case 'stop':
      running = false
      clearTimeout(timer)
      send({ type: 'stopped', published })
      break
    case 'report': {
      const cpu = process.cpuUsage(cpuStart)
      send({
        type: 'report',
        cpuMicros: cpu.user + cpu.system,
        wallMs: performance.now() - wallStart,
        published,
      })
      break
    }
    case 'snapshot':
      // Taking the snapshot collects garbage first.
      send({ type: 'snapshot', path: writeHeapSnapshot(cmd.path) })
      break
    case 'memory': {
      if (!gc) throw new Error('run with --expose-gc')
      gc()
      gc()
      const m = process.memoryUsage()
      send({
        type: 'memory',
        rss: m.rss,
        heapUsed: m.heapUsed,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        handles: activeHandles(),
      })
      break
    }
  }
})
process.on('disconnect', () => process.exit(0))
