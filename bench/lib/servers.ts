// Every server the benches compare, each built the way its own documentation shows, each listening on
// 127.0.0.1 on a random port. A server gets every event twice: as `data` (for the libraries, which encode
// it themselves) and as `frame`, the complete SSE frame encoded once (for the hand-written floors, which
// write that one Buffer to every response).
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import type { AddressInfo } from 'node:net'
import fastifySse from '@fastify/sse'
import { createHub, type Hub } from '@herald/sse-core'
import { serveNode } from '@herald/sse-core/node'
import { sse as expressSse } from '@herald/sse-express'
import { sse as h3Sse } from '@herald/sse-h3'
import { sse as honoSse } from '@herald/sse-hono'
import { sse as koaSse } from '@herald/sse-koa'
import { createAdaptorServer } from '@hono/node-server'
import { createChannel, createSession } from 'better-sse'
import compression from 'compression'
import express from 'express'
import Fastify from 'fastify'
import { createEventStream, type EventStream, fromNodeHandler, H3, type NodeMiddleware } from 'h3'
import { serve as h3Serve } from 'h3/node'
import { Hono } from 'hono'
import { compress as honoCompress } from 'hono/compress'
import { type SSEStreamingApi, streamSSE } from 'hono/streaming'
import Koa from 'koa'
import koaCompress from 'koa-compress'

export type ServerKind =
  | 'node'
  | 'herald-node'
  | 'better-sse'
  | 'fastify-sse'
  | 'express-sse'
  | 'hono-sse'
  | 'h3-sse'
  | 'express-floor'
  | 'koa-floor'
  | 'hono-floor'
  | 'h3-floor'
  | 'herald-express'
  | 'herald-koa'
  | 'herald-hono'
  | 'herald-h3'
  | 'node-h2'
  | 'herald-node-h2'

/** How each server is named in tables and charts. */
export const LABEL: Record<ServerKind, string> = {
  node: 'hand-written node:http',
  'herald-node': 'Herald on node:http',
  'better-sse': 'better-sse (Channel)',
  'fastify-sse': '@fastify/sse',
  'express-sse': 'Express + compression (hand)',
  'hono-sse': 'Hono streamSSE',
  'h3-sse': 'h3 createEventStream',
  'express-floor': 'Express floor',
  'koa-floor': 'Koa floor',
  'hono-floor': 'Hono floor',
  'h3-floor': 'h3 floor',
  'herald-express': 'Herald on Express',
  'herald-koa': 'Herald on Koa',
  'herald-hono': 'Herald on Hono',
  'herald-h3': 'Herald on h3',
  'node-h2': 'hand-written node:http2',
  'herald-node-h2': 'Herald on node:http2',
}

/** The h2c servers. Only the scale bench runs them; `pnpm bench` compares the HTTP/1.1 ones. */
export const H2_KINDS: readonly ServerKind[] = ['node-h2', 'herald-node-h2']

/** The HTTP/1.1 servers, every one of which `pnpm bench` runs. */
export const KINDS = (Object.keys(LABEL) as ServerKind[]).filter((k) => !H2_KINDS.includes(k))

/**
 * What an h2c server lets one client connection hold at once. Node's default is unlimited, but say it:
 * the scale bench multiplexes a few hundred streams on each connection.
 */
export const H2_MAX_STREAMS_PER_CONNECTION = 1000

export interface BenchServer {
  port: number
  publish(seq: number, data: string, frame: Buffer): void
  count(): number
}

// The SSE headers every hand-written server sends: `no-transform` keeps compression middleware off.
const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
}
export const EPOCH = 'bench'

async function listen(server: http.Server | http2.Http2Server): Promise<number> {
  if (server instanceof http.Server) server.keepAliveTimeout = 0
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => resolve())
  })
  return (server.address() as AddressInfo).port
}

/**
 * An h2c server (HTTP/2 without TLS, clients that know in advance), on 127.0.0.1 as `listen` does. Each
 * stream it holds costs its connection some of Node's `maxSessionMemory` (10 MB by default); past it, new
 * streams are refused with ENHANCE_YOUR_CALM, which the scale bench's client treats as a failure. On
 * Node 20 that happened past about 10,000 idle streams on one connection, far above the 250 it opens.
 */
async function listenH2(
  onRequest: (req: Http2ServerRequest, res: Http2ServerResponse) => void,
): Promise<number> {
  return listen(
    http2.createServer({ settings: { maxConcurrentStreams: H2_MAX_STREAMS_PER_CONNECTION } }, onRequest),
  )
}

/** The parts of an HTTP/1.1 or HTTP/2 (compatibility API) response a floor uses. */
type FloorResponse = Pick<ServerResponse, 'writeHead' | 'on'> & {
  write(chunk: Buffer): boolean
  flushHeaders?: () => void
  flush?: () => void
}

/** A set of raw responses written with one shared Buffer per event (and `res.flush()` when compression added it). */
function floorClients() {
  const clients = new Set<FloorResponse>()
  return {
    clients,
    open(response: ServerResponse | Http2ServerResponse) {
      const res = response as FloorResponse
      res.writeHead(200, SSE_HEADERS)
      // HTTP/1.1 holds the head until the first write; HTTP/2's writeHead has sent it already.
      res.flushHeaders?.()
      clients.add(res)
      res.on('close', () => clients.delete(res))
    },
    publish(frame: Buffer) {
      for (const res of clients) {
        res.write(frame)
        res.flush?.()
      }
    },
  }
}

function heraldHub(): Hub {
  // Defaults, except a fixed epoch (when the hub takes one) and no per-client cap: every bench stream
  // comes from 127.0.0.1.
  return createHub({ epoch: EPOCH, maxSubscribersPerClient: Number.POSITIVE_INFINITY } as never)
}
const heraldPublish = (hub: Hub) => (_seq: number, data: string) => {
  // Whether publish returns the id or a promise of it, the bench does not wait for it.
  void (hub.publish('bench', { data }) as unknown)
}

const servers: Record<ServerKind, () => Promise<BenchServer>> = {
  async node() {
    const floor = floorClients()
    const server = http.createServer((_req, res) => floor.open(res))
    return {
      port: await listen(server),
      publish: (_s, _d, frame) => floor.publish(frame),
      count: () => floor.clients.size,
    }
  },

  async 'herald-node'() {
    const hub = heraldHub()
    const server = http.createServer((req, res) => {
      const info = { url: req.url ?? '/', lastEventId: undefined, remoteAddress: req.socket.remoteAddress }
      serveNode(hub, {}, req, info as never, res).catch(() => res.destroy())
    })
    return {
      port: await listen(server),
      publish: heraldPublish(hub),
      count: () => hub.subscriberCount('bench'),
    }
  },

  async 'node-h2'() {
    // The same floor on HTTP/2's compatibility API: one shared Buffer per event, `res.write` per stream.
    const floor = floorClients()
    return {
      port: await listenH2((_req, res) => floor.open(res)),
      publish: (_s, _d, frame) => floor.publish(frame),
      count: () => floor.clients.size,
    }
  },

  async 'herald-node-h2'() {
    const hub = heraldHub()
    const port = await listenH2((req, res) => {
      const info = { url: req.url, lastEventId: undefined, remoteAddress: req.socket.remoteAddress }
      serveNode(hub, {}, req, info as never, res).catch(() => res.stream.destroy())
    })
    return {
      port,
      publish: heraldPublish(hub),
      count: () => hub.subscriberCount('bench'),
    }
  },

  async 'better-sse'() {
    const channel = createChannel()
    const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
      // Its best case: data is already a string, so no JSON.stringify per session.
      createSession(req, res, { serializer: (d) => d as string }).then(
        (session) => channel.register(session),
        () => res.destroy(),
      )
    })
    return {
      port: await listen(server),
      publish: (seq, data) => channel.broadcast(data, 'message', { eventId: `${EPOCH}-${seq}` }),
      count: () => channel.sessionCount,
    }
  },

  async 'fastify-sse'() {
    const app = Fastify()
    // Pass-through serializer, as for better-sse: data is already a string.
    await app.register(fastifySse, { serializer: (d: unknown) => String(d) })
    const replies = new Set<{ sse: { send(m: unknown): Promise<void> } }>()
    app.get('/events', { sse: 'only' }, async (_req, reply) => {
      reply.sse.keepAlive()
      reply.sse.sendHeaders()
      // Its headers wait for the first event otherwise; a client must see the stream open at once.
      reply.raw.flushHeaders()
      replies.add(reply as never)
      reply.sse.onClose(() => replies.delete(reply as never))
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    return {
      port: (app.server.address() as AddressInfo).port,
      publish: (seq, data) => {
        for (const r of replies) void r.sse.send({ id: `${EPOCH}-${seq}`, data }).catch(() => {})
      },
      count: () => replies.size,
    }
  },

  async 'express-sse'() {
    // What the Express documentation and most tutorials show: compression installed, a string per event, flush.
    const clients = new Set<express.Response>()
    const app = express()
    app.use(compression())
    app.get('/events', (_req, res) => {
      res.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })
      res.flushHeaders()
      clients.add(res)
      res.on('close', () => clients.delete(res))
    })
    return {
      port: await listen(http.createServer(app)),
      publish: (seq, data) => {
        for (const res of clients) {
          res.write(`id: ${EPOCH}-${seq}\ndata: ${data}\n\n`)
          res.flush()
        }
      },
      count: () => clients.size,
    }
  },

  async 'hono-sse'() {
    const streams = new Set<SSEStreamingApi>()
    const app = new Hono()
    app.get('/events', (c) =>
      streamSSE(c, async (stream) => {
        streams.add(stream)
        await new Promise<void>((resolve) => stream.onAbort(resolve))
        streams.delete(stream)
      }),
    )
    return {
      port: await listen(createAdaptorServer({ fetch: app.fetch }) as http.Server),
      publish: (seq, data) => {
        for (const s of streams) void s.writeSSE({ id: `${EPOCH}-${seq}`, data })
      },
      count: () => streams.size,
    }
  },

  async 'h3-sse'() {
    const streams = new Set<EventStream>()
    const app = new H3()
    app.get('/events', (event) => {
      const stream = createEventStream(event)
      streams.add(stream)
      stream.onClosed(() => streams.delete(stream))
      // Its headers wait for the first message otherwise; a client must see the stream open at once.
      void stream.pushComment('open')
      return stream.send()
    })
    const { node } = h3Serve(app, { manual: true, gracefulShutdown: false })
    return {
      port: await listen(http.createServer(node!.handler as http.RequestListener)),
      publish: (seq, data) => {
        for (const s of streams) void s.push({ id: `${EPOCH}-${seq}`, data })
      },
      count: () => streams.size,
    }
  },

  async 'express-floor'() {
    const floor = floorClients()
    const app = express()
    app.use(compression())
    app.get('/events', (_req, res) => floor.open(res))
    return {
      port: await listen(http.createServer(app)),
      publish: (_s, _d, frame) => floor.publish(frame),
      count: () => floor.clients.size,
    }
  },

  async 'koa-floor'() {
    const floor = floorClients()
    const app = new Koa()
    app.use(koaCompress())
    app.use(async (ctx) => {
      floor.open(ctx.res)
      ctx.respond = false
    })
    return {
      port: await listen(http.createServer(app.callback())),
      publish: (_s, _d, frame) => floor.publish(frame),
      count: () => floor.clients.size,
    }
  },

  async 'hono-floor'() {
    const floor = floorClients()
    const app = new Hono<{ Bindings: { outgoing: ServerResponse } }>()
    app.use(honoCompress())
    app.get('/events', (c) => {
      floor.open(c.env.outgoing)
      // @hono/node-server's convention for "the handler answered on the raw response".
      const done = new Response(null, { headers: { 'x-hono-already-sent': 'true' } })
      void done.body
      return done
    })
    return {
      port: await listen(createAdaptorServer({ fetch: app.fetch }) as http.Server),
      publish: (_s, _d, frame) => floor.publish(frame),
      count: () => floor.clients.size,
    }
  },

  async 'h3-floor'() {
    const floor = floorClients()
    const app = new H3()
    app.use(fromNodeHandler(compression() as NodeMiddleware))
    app.get('/events', async (event) => {
      const res = event.runtime!.node!.res as ServerResponse
      floor.open(res)
      // srvx ends the raw response once the handler settles: settle when the client leaves.
      await new Promise((resolve) => res.once('close', resolve))
      return Symbol.for('h3.handled')
    })
    const { node } = h3Serve(app, { manual: true, gracefulShutdown: false })
    return {
      port: await listen(http.createServer(node!.handler as http.RequestListener)),
      publish: (_s, _d, frame) => floor.publish(frame),
      count: () => floor.clients.size,
    }
  },

  async 'herald-express'() {
    const hub = heraldHub()
    const app = express()
    app.use(compression())
    app.get('/events', expressSse(hub))
    return {
      port: await listen(http.createServer(app)),
      publish: heraldPublish(hub),
      count: () => hub.subscriberCount('bench'),
    }
  },

  async 'herald-koa'() {
    const hub = heraldHub()
    const app = new Koa()
    app.use(koaCompress())
    app.use(koaSse(hub))
    return {
      port: await listen(http.createServer(app.callback())),
      publish: heraldPublish(hub),
      count: () => hub.subscriberCount('bench'),
    }
  },

  async 'herald-hono'() {
    const hub = heraldHub()
    const app = new Hono()
    app.use(honoCompress())
    app.get('/events', honoSse(hub))
    return {
      port: await listen(createAdaptorServer({ fetch: app.fetch }) as http.Server),
      publish: heraldPublish(hub),
      count: () => hub.subscriberCount('bench'),
    }
  },

  async 'herald-h3'() {
    const hub = heraldHub()
    const app = new H3()
    app.use(fromNodeHandler(compression() as NodeMiddleware))
    app.get('/events', h3Sse(hub))
    const { node } = h3Serve(app, { manual: true, gracefulShutdown: false })
    return {
      port: await listen(http.createServer(node!.handler as http.RequestListener)),
      publish: heraldPublish(hub),
      count: () => hub.subscriberCount('bench'),
    }
  },
}

/** Starts the server of `kind`, listening on 127.0.0.1. */
export function startServer(kind: ServerKind): Promise<BenchServer> {
  const start = servers[kind]
  if (!start) throw new Error(`unknown server kind ${kind}`)
  return start()
}
