// Real servers for the client's tests: the four sample apps, a hub that outlives a server restart, a TCP
// proxy that can stall, and a recorder of everything a client reports.
import net from 'node:net'
import { createHub, type Hub, type HubOptions } from '@herald/sse-core'
import { waitFor } from '@herald/test-utils'
import { start as startExpress } from '../../../apps/express-app/src/server.js'
import { start as startH3 } from '../../../apps/h3-app/src/server.js'
import { start as startHono } from '../../../apps/hono-app/src/server.js'
import { start as startKoa } from '../../../apps/koa-app/src/server.js'
import type { EventMap, HeraldClientError, ReconnectInfo, SseClient, SseEvent } from '../src/index.js'

export { waitFor }

/** What the sample apps answer (401) to a stream request without a token. */
export const UNAUTHORIZED = 'Unauthorized: send Authorization: Bearer <token>'

/** The token the tests give the sample apps for `/events-private`. */
export const EVENTS_TOKEN = 'client-tests-events-token'

export interface RunningSample {
  url: string
  hub: Hub
  close(options?: { retryMs?: number }): Promise<void>
}

export type SampleStart = (options: {
  port?: number
  hub?: Hub
  eventsToken?: string
  publishToken?: string
}) => Promise<RunningSample>

// Every app gets its tokens from the test (else it would make up and print its own).
const TOKENS = { eventsToken: EVENTS_TOKEN, publishToken: 'client-tests-publish-token' }
const withTokens =
  (start: SampleStart): SampleStart =>
  (options) =>
    start({ ...TOKENS, ...options })

/** Every sample app's `start()`: same options, same routes. */
export const SAMPLE_APPS: { name: string; start: SampleStart }[] = [
  { name: 'express-app', start: withTokens(startExpress) },
  { name: 'koa-app', start: withTokens(startKoa) },
  { name: 'hono-app', start: withTokens(startHono) },
  { name: 'h3-app', start: withTokens(startH3) },
]

/**
 * A view of `hub` whose close() does nothing: an app closing it only cuts its streams, as a crash would,
 * and the hub's history survives to the next server (as a durable store would across a deploy).
 */
export function outliving(hub: Hub): Hub {
  return Object.assign(Object.create(hub) as Hub, { close: async () => {} })
}

/**
 * `start`ed on a hub that outlives it: `stop()` cuts the streams as a crash would, `restart()` listens
 * again on the same port with the same hub (and history), `close()` ends both.
 */
export async function restartable(start: SampleStart, hubOptions: HubOptions = {}) {
  const hub = testHub(hubOptions)
  let app = await start({ hub: outliving(hub) })
  const port = portOf(app.url)
  return {
    hub,
    url: app.url,
    stop: () => app.close(),
    async restart() {
      app = await start({ port, hub: outliving(hub) })
    },
    async close() {
      await app.close()
      await hub.close()
    },
  }
}

/** A hub for tests: fast heartbeats, so a healthy stream is never silent for long. */
export function testHub(options: HubOptions = {}): Hub {
  return createHub({ heartbeatMs: 200, ...options })
}

/** The port of an app's URL. */
export const portOf = (url: string) => Number(new URL(url).port)

/** Everything a client reported, in order. */
export interface Recording {
  events: SseEvent<string, unknown>[]
  opens: number
  reconnects: ReconnectInfo[]
  errors: HeraldClientError[]
  hints: number[]
  resets: SseEvent[]
  gaps: { event: SseEvent; dropped: number | undefined }[]
}

/** Callbacks for `connect()` that write into `recording`. */
export function recorder() {
  const recording: Recording = {
    events: [],
    opens: 0,
    reconnects: [],
    errors: [],
    hints: [],
    resets: [],
    gaps: [],
  }
  const callbacks = {
    onOpen: () => {
      recording.opens++
    },
    onReconnecting: (info: ReconnectInfo) => {
      recording.reconnects.push(info)
    },
    onError: (error: HeraldClientError) => {
      recording.errors.push(error)
    },
    onRetryHint: (ms: number) => {
      recording.hints.push(ms)
    },
    onReset: (event: SseEvent) => {
      recording.resets.push(event)
    },
    onGap: (event: SseEvent, dropped: number | undefined) => {
      recording.gaps.push({ event, dropped })
    },
  }
  return { recording, callbacks }
}

/** Reads `client` with for-await into `recording.events` until it ends; resolves with how it ended. */
export function collect<M extends EventMap>(client: SseClient<M>, recording: Recording): Promise<unknown> {
  return (async () => {
    for await (const event of client) recording.events.push(event as SseEvent<string, unknown>)
  })().then(
    () => 'done',
    (error: unknown) => error,
  )
}

/** The data of the recorded events named `type`. */
export const dataOf = (recording: Recording, type = 'message') =>
  recording.events.filter((e) => e.type === type).map((e) => e.data)

/**
 * A TCP proxy to `127.0.0.1:targetPort`. `stall()` stops forwarding on every open connection without
 * closing it (a proxy or NAT that lost the flow); connections made afterwards are forwarded as usual.
 */
export async function startProxy(targetPort: number) {
  const pairs = new Set<[net.Socket, net.Socket]>()
  let connections = 0
  const server = net.createServer((client) => {
    connections++
    const upstream = net.connect(targetPort, '127.0.0.1')
    const pair: [net.Socket, net.Socket] = [client, upstream]
    pairs.add(pair)
    client.pipe(upstream)
    upstream.pipe(client)
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections
    },
    stall() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [client, upstream] of pairs) {
          client.destroy()
          upstream.destroy()
        }
        server.close(() => resolve())
      }),
  }
}
