import http2 from 'node:http2'
import { createHub, type Hub } from '@herald/sse-core'
import {
  type AdapterTarget,
  describeAdapter,
  listen,
  openStream,
  recordProcessTrouble,
  serveFetch,
  waitFor,
} from '@herald/test-utils'
import compression from 'compression'
import { fromNodeHandler, H3, type NodeMiddleware } from 'h3'
import { serve } from 'h3/node'
import { expect, it } from 'vitest'
import { sse } from '../src/index.js'

const kHandled = Symbol.for('h3.handled')

/** The routes `describeAdapter` expects; Express `compression` in front when running on Node. */
function buildApp(hub: Hub, paths: string[], onNode: boolean) {
  const app = new H3()
  app.use(async (_event, next) => {
    const result = await next()
    if (result === kHandled) paths.push('node')
    else if (
      result instanceof Response &&
      result.headers.get('content-type')?.startsWith('text/event-stream')
    ) {
      paths.push('web')
    }
    return result
  })
  // Node middleware needs the raw request and response, which only srvx's Node adapter provides.
  if (onNode) app.use(fromNodeHandler(compression() as NodeMiddleware))
  app.use((event) => {
    event.res.headers.set('x-before', 'yes')
  })
  app.get('/events', sse(hub))
  app.get('/keyed', sse(hub, { clientKey: () => 'fixed' }))
  app.get(
    '/private',
    sse(hub, {
      authorize: (event) => event.req.headers.get('authorization') === 'Bearer ok' || { status: 401 },
    }),
  )
  app.get('/forbidden', sse(hub, { authorize: () => false }))
  app.get('/big', (event) => {
    event.res.headers.set('content-type', 'text/plain; charset=utf-8')
    return 'x'.repeat(4096)
  })
  return app
}

const targets: AdapterTarget[] = [
  {
    name: 'srvx (h3/node serve) over HTTP/1.1',
    sink: 'node',
    compression: true,
    remoteAddress: true,
    start: async (hub) => {
      const paths: string[] = []
      const server = serve(buildApp(hub, paths, true), { port: 0, hostname: '127.0.0.1', silent: true })
      await server.ready()
      return { url: server.url!, server: server.node?.server, paths, close: () => server.close(true) }
    },
  },
  {
    // srvx listens with HTTP/2 only over TLS; for h2c its Node handler goes on a node:http2 server.
    // (Not `toNodeHandler`: it ends responses with `res.end(callback)`, which Express compression
    // mistakes for a body chunk and throws on.)
    name: 'node:http2 with the srvx Node handler, over h2c',
    sink: 'node',
    http2: true,
    compression: true,
    remoteAddress: true,
    start: async (hub) => {
      const paths: string[] = []
      const { node } = serve(buildApp(hub, paths, true), { manual: true, gracefulShutdown: false })
      return { ...(await listen(http2.createServer(node!.handler as never))), paths }
    },
  },
  {
    // app.fetch behind a plain Request/Response bridge: no Node objects, as on Deno, Bun or workers.
    name: 'a fetch-only server',
    sink: 'web',
    compression: false,
    remoteAddress: false,
    start: async (hub) => {
      const paths: string[] = []
      const app = buildApp(hub, paths, false)
      return { ...(await serveFetch((request) => app.fetch(request))), paths }
    },
  },
]

describeAdapter('@herald/sse-h3', targets)

it('streams from an app whose only route is the handler (no middleware)', async () => {
  const trouble = recordProcessTrouble()
  const hub = createHub({ heartbeatMs: 0 })
  const app = new H3()
  app.get('/events', sse(hub))
  const server = serve(app, { port: 0, hostname: '127.0.0.1', silent: true, gracefulShutdown: false })
  await server.ready()
  try {
    const client = await openStream(`${server.url}events?topic=bare`)
    expect(client.status).toBe(200)
    await waitFor(() => hub.subscriberCount('bare') === 1, 'subscribed', 2000)
    hub.publish('bare', { data: 'alone' })
    expect((await client.waitForEvents(1))[0]!.data).toBe('alone')
    client.close()
    await waitFor(() => hub.subscriberCount() === 0, 'released', 1000)
  } finally {
    await hub.close()
    await server.close(true)
    trouble.stop()
  }
  expect(trouble.problems).toEqual([])
})

it.each([
  [
    'srvx',
    (app: H3) => serve(app, { port: 0, hostname: '127.0.0.1', silent: true, gracefulShutdown: false }),
  ],
  ['a fetch-only server', (app: H3) => serveFetch((request) => app.fetch(request))],
])('hands a throwing callback to h3 onError on %s, before any stream starts', async (name, start) => {
  const hub = createHub({ heartbeatMs: 0 })
  const app = new H3({
    // `silent`: h3 would also log the error itself.
    silent: true,
    onError: (error) => new Response(`handled: ${(error.cause as Error).message}`, { status: 500 }),
  })
  app.get(
    '/events',
    sse(hub, {
      topics: () => {
        throw new Error('no topics today')
      },
    }),
  )
  const started = start(app)
  const server =
    'ready' in started
      ? { url: (await started.ready()).url!, close: () => started.close(true) }
      : await started
  try {
    const client = await openStream(`${server.url}events?topic=t`)
    expect(client.status, name).toBe(500)
    await client.ended
    expect(client.text).toBe('handled: no topics today')
    expect(hub.subscriberCount()).toBe(0)
  } finally {
    await hub.close()
    await server.close()
  }
})
