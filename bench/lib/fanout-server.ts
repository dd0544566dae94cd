// The server side of fanout.bench.ts, run as a child process so its CPU and memory are its own.
// argv[2] picks the implementation:
//   hand   - hand-written node:http: encodes each event once, writes that one Buffer to every socket
//   herald - createHub + serveNode from @herald/sse-core/node on a plain node:http server
//   better - better-sse: createSession per request, one channel, channel.broadcast per event
// Control is over the IPC channel (see Command / Reply below). Only 127.0.0.1 is ever bound.
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import { createHub } from '@herald/sse-core'
import { serveNode } from '@herald/sse-core/node'
import { createChannel, createSession } from 'better-sse'

export type ServerKind = 'hand' | 'herald' | 'better'
export type PublishMode = 'tick' | 'burst'

export type Command =
  | { type: 'count' }
  | { type: 'run'; window: number; mode: PublishMode }
  | { type: 'ack'; seq: number }
  | { type: 'stop' }
  | { type: 'report' }
  | { type: 'memory' }

export type Reply =
  | { type: 'listening'; port: number }
  | { type: 'count'; count: number }
  | { type: 'stopped'; published: number }
  | { type: 'report'; cpuMicros: number; wallMs: number; published: number }
  | { type: 'memory'; rss: number; heapUsed: number; external: number; arrayBuffers: number }

const kind = process.argv[2] as ServerKind
if (!['hand', 'herald', 'better'].includes(kind)) throw new Error(`unknown server kind ${kind}`)
const send = (reply: Reply) => process.send!(reply)

// Every implementation sends the same id (`bench-<seq>`) and the same 128-byte payload per event.
export const EPOCH = 'bench'
const pad = 'x'.repeat(128)
const payload = (seq: number) => {
  const base = JSON.stringify({ seq, kind: 'tick', note: '' })
  return base.slice(0, -2) + pad.slice(0, 128 - base.length) + base.slice(-2)
}

interface Impl {
  handle(req: IncomingMessage, res: ServerResponse): void
  publish(seq: number, data: string): void
  count(): number
}

function handWritten(): Impl {
  const clients = new Set<ServerResponse>()
  return {
    handle(_req, res) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
      })
      res.flushHeaders()
      clients.add(res)
      res.on('close', () => clients.delete(res))
    },
    publish(seq, data) {
      const frame = Buffer.from(`id: ${EPOCH}-${seq}\ndata: ${data}\n\n`)
      for (const res of clients) res.write(frame)
    },
    count: () => clients.size,
  }
}

function herald(): Impl {
  // Defaults throughout (history, budget, heartbeat), except a fixed epoch so ids match the others, and
  // no per-client cap: every one of the thousands of bench streams comes from 127.0.0.1.
  const hub = createHub({ epoch: EPOCH, maxSubscribersPerClient: Number.POSITIVE_INFINITY })
  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const info = {
        url,
        lastEventId: req.headers['last-event-id'] as string | undefined,
        remoteAddress: req.socket.remoteAddress,
      }
      serveNode(hub, {}, req, info, res).catch((error) => {
        console.error(error)
        res.destroy()
      })
    },
    publish(_seq, data) {
      hub.publish('bench', { data })
    },
    count: () => hub.subscriberCount('bench'),
  }
}

function betterSse(): Impl {
  const channel = createChannel()
  return {
    handle(req, res) {
      // Its best case: data is already a string, so no JSON.stringify per session.
      createSession(req, res, { serializer: (d) => d as string }).then(
        (session) => channel.register(session),
        (error) => {
          console.error(error)
          res.destroy()
        },
      )
    },
    publish(seq, data) {
      channel.broadcast(data, 'message', { eventId: `${EPOCH}-${seq}` })
    },
    count: () => channel.sessionCount,
  }
}

const impl = kind === 'hand' ? handWritten() : kind === 'herald' ? herald() : betterSse()
const server = http.createServer((req, res) => impl.handle(req, res))
server.keepAliveTimeout = 0
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  send({ type: 'listening', port: (server.address() as { port: number }).port })
})

let published = 0
let acked = 0
let window = 64
let mode: PublishMode = 'tick'
let running = false
let scheduled = false
let cpuStart = process.cpuUsage()
let wallStart = 0

// Publishes while fewer than `window` events are unacknowledged by the slowest subscriber.
// tick: one event per macrotask (no two events share a tick); burst: fill the window at once.
function pump() {
  scheduled = false
  if (!running) return
  if (mode === 'tick') {
    if (published - acked < window) {
      published++
      impl.publish(published, payload(published))
      schedule()
    }
  } else {
    while (published - acked < window) {
      published++
      impl.publish(published, payload(published))
    }
  }
}
function schedule() {
  if (!scheduled) {
    scheduled = true
    setImmediate(pump)
  }
}

const gc = (globalThis as { gc?: () => void }).gc
process.on('message', (cmd: Command) => {
  switch (cmd.type) {
    case 'count':
      send({ type: 'count', count: impl.count() })
      break
    case 'run':
      window = cmd.window
      mode = cmd.mode
      running = true
      cpuStart = process.cpuUsage()
      wallStart = performance.now()
      schedule()
      break
    case 'ack':
      if (cmd.seq > acked) acked = cmd.seq
      if (running) schedule()
      break
    case 'stop':
      running = false
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
      })
      break
    }
  }
})
process.on('disconnect', () => process.exit(0))
