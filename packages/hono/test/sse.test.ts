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
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { compress } from 'hono/compress'
import { expect, it } from 'vitest'
import { sse } from '../src/index.js'

/** The routes `describeAdapter` expects, behind `compress({ contentTypeFilter: /^text\// })`. */
function buildApp(hub: Hub, paths: string[]) {
  const app = new Hono()
  app.use(async (c, next) => {
    await next()
    if (c.res.headers.get('content-type')?.startsWith('text/event-stream')) paths.push('web')
    else if (c.res.headers.get('x-hono-already-sent')) paths.push('node')
  })
  // The strictest setting: it would compress text/event-stream if the stream did not say no-transform.
  app.use(compress({ contentTypeFilter: /^text\// }))
  app.use(async (c, next) => {
    // Like cors(): touches c.res before the handler runs, so Hono re-wraps whatever the handler returns.
    c.res.headers.set('x-before', 'yes')
    await next()
  })
  app.get('/events', sse(hub))
  app.get('/keyed', sse(hub, { clientKey: () => 'fixed' }))
  app.get(
    '/private',
    sse(hub, { authorize: (c) => c.req.header('authorization') === 'Bearer ok' || { status: 401 } }),
  )
  app.get('/forbidden', sse(hub, { authorize: () => false }))
  app.get('/big', (c) => c.text('x'.repeat(4096)))
  return app
}

function onNodeServer(http2Server: boolean): AdapterTarget['start'] {
  return async (hub) => {
    const paths: string[] = []
    const app = buildApp(hub, paths)
    const server = createAdaptorServer({
      fetch: app.fetch,
      ...(http2Server && { createServer: http2.createServer }),
    })
    return { ...(await listen(server as Parameters<typeof listen>[0])), paths }
  }
}

describeAdapter('@herald/sse-hono', [
  {
    name: '@hono/node-server over HTTP/1.1',
    sink: 'node',
    compression: true,
    remoteAddress: true,
    start: onNodeServer(false),
  },
  {
    name: '@hono/node-server over h2c',
    sink: 'node',
    http2: true,
    compression: true,
    remoteAddress: true,
    start: onNodeServer(true),
  },
  {
    // app.fetch behind a plain Request/Response bridge: no `c.env.outgoing`, as on Deno, Bun or workers.
    name: 'a fetch-only server',
    sink: 'web',
    compression: true,
    remoteAddress: false,
    start: async (hub) => {
      const paths: string[] = []
      const app = buildApp(hub, paths)
      return { ...(await serveFetch((request) => app.fetch(request))), paths }
    },
  },
])

// With no middleware Hono hands the handler's Response straight to @hono/node-server, whose shortcut for
// bodiless responses would write headers a second time if the adapter's marker were not a native Response.
it('streams from an app whose only route is the handler (no middleware)', async () => {
  const trouble = recordProcessTrouble()
  const hub = createHub({ heartbeatMs: 0 })
  const app = new Hono()
  app.get('/events', sse(hub))
  const server = await listen(createAdaptorServer({ fetch: app.fetch }) as Parameters<typeof listen>[0])
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
    await server.close()
    trouble.stop()
  }
  expect(trouble.problems).toEqual([])
})

it.each([
  [
    '@hono/node-server',
    (app: Hono) => listen(createAdaptorServer({ fetch: app.fetch }) as Parameters<typeof listen>[0]),
  ],
  ['a fetch-only server', (app: Hono) => serveFetch((request) => app.fetch(request))],
])('hands a throwing callback to Hono onError on %s, before any stream starts', async (_name, serve) => {
  const hub = createHub({ heartbeatMs: 0 })
  const app = new Hono()
  app.onError((error, c) => c.text(`handled: ${error.message}`, 500))
  app.get(
    '/events',
    sse(hub, {
      topics: () => {
        throw new Error('no topics today')
      },
    }),
  )
  const server = await serve(app)
  try {
    const client = await openStream(`${server.url}events?topic=t`)
    expect(client.status).toBe(500)
    await client.ended
    expect(client.text).toBe('handled: no topics today')
    expect(hub.subscriberCount()).toBe(0)
  } finally {
    await hub.close()
    await server.close()
  }
})
