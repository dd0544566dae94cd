// One server process of the Redis bench: a hub on the in-memory broker (`memory`) or on the Redis broker
// (`redis <url> <namespace>`), served by serveNode on node:http at 127.0.0.1:0. Driven over IPC by
// redis.bench.ts: `publish n` publishes n events (data: the publish time in ms on the shared clock of
// this machine, performance.timeOrigin + performance.now()) without waiting between them.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHub } from '@herald/sse-core'
import { serveNode } from '@herald/sse-core/node'
import { createRedisBroker } from '@herald/sse-redis'

export type BrokerCommand = { type: 'publish'; n: number } | { type: 'count' } | { type: 'close' }
export type BrokerReply =
  | { type: 'listening'; port: number }
  | { type: 'count'; count: number }
  | { type: 'failed'; message: string }
  | { type: 'closed' }

const [mode, url, namespace] = process.argv.slice(2)
const send = (reply: BrokerReply) => process.send?.(reply)

const broker = mode === 'redis' ? createRedisBroker({ url: url!, namespace: namespace! }) : undefined
if (broker) await broker.ready()
// No heartbeats (only events on the wire), no per-client cap: every bench stream comes from 127.0.0.1.
const hub = createHub({
  heartbeatMs: 0,
  maxSubscribersPerClient: Number.POSITIVE_INFINITY,
  ...(broker ? { broker } : {}),
})

const server = createServer((req, res) => {
  const info = {
    url: new URL(req.url ?? '/', 'http://127.0.0.1'),
    lastEventId: req.headers['last-event-id'] as string | undefined,
    remoteAddress: req.socket.remoteAddress,
  }
  serveNode(hub, {}, req, info, res).catch((error) => {
    console.error(error)
    res.destroy()
  })
})
server.listen(0, '127.0.0.1', () => send({ type: 'listening', port: (server.address() as AddressInfo).port }))

const clock = () => performance.timeOrigin + performance.now()
let failed = false

process.on('message', (cmd: BrokerCommand) => {
  if (cmd.type === 'publish') {
    for (let i = 0; i < cmd.n; i++) {
      hub.publish('bench', { data: clock().toFixed(3) }).catch((error: Error) => {
        if (failed) return
        failed = true
        send({ type: 'failed', message: error.message })
      })
    }
  } else if (cmd.type === 'count') {
    send({ type: 'count', count: hub.subscriberCount('bench') })
  } else if (cmd.type === 'close') {
    hub.close().then(() => {
      server.closeAllConnections()
      server.close()
      send({ type: 'closed' })
      process.exit(0)
    })
  }
})
