import { createServer } from 'node:http'
import http2 from 'node:http2'
import { connect, type Socket } from 'node:net'
import { PassThrough } from 'node:stream'
import { createHub, type Hub } from '@herald/sse-core'
import {
  type AdapterTarget,
  describeAdapter,
  listen,
  openStream,
  recordProcessTrouble,
  type TestServer,
  waitFor,
} from '@herald/test-utils'
import Router from '@koa/router'
import Koa from 'koa'
import Koa2 from 'koa-2'
import compress from 'koa-compress'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { sse } from '../src/index.js'

const majors = [
  ['Koa 3', Koa],
  ['Koa 2', Koa2],
] as const

/**
 * The routes `describeAdapter` expects, behind `koa-compress`. No 'error' listener is installed: Koa then
 * logs app errors with console.error, which the suite counts as trouble.
 */
function buildApp(KoaApp: typeof Koa, hub: Hub, paths: string[]): Koa {
  const app = new KoaApp()
  app.use(compress({ threshold: 0 }))
  app.use(async (ctx, next) => {
    ctx.set('x-before', 'yes')
    await next()
    // Koa only runs on Node, so every stream takes the Node sink: record each one that went out.
    if (ctx.respond === false && ctx.response.get('content-type').startsWith('text/event-stream'))
      paths.push('node')
  })
  const router = new Router()
  router.get('/events', sse(hub))
  router.get('/keyed', sse(hub, { clientKey: () => 'fixed' }))
  router.get(
    '/private',
    sse(hub, { authorize: (ctx) => ctx.get('authorization') === 'Bearer ok' || { status: 401 } }),
  )
  router.get('/forbidden', sse(hub, { authorize: () => false }))
  router.get('/big', (ctx) => {
    ctx.type = 'text/plain'
    ctx.body = 'x'.repeat(4096)
  })
  app.use(router.routes())
  return app
}

describeAdapter(
  '@herald/sse-koa',
  majors.flatMap(([name, KoaApp]) =>
    [false, true].map(
      (useHttp2): AdapterTarget => ({
        name: `${name} behind koa-compress over ${useHttp2 ? 'h2c' : 'HTTP/1.1'}`,
        sink: 'node',
        http2: useHttp2,
        compression: true,
        remoteAddress: true,
        start: async (hub) => {
          const paths: string[] = []
          const callback = buildApp(KoaApp, hub, paths).callback()
          const server = useHttp2 ? http2.createServer(callback) : createServer(callback)
          return { ...(await listen(server)), paths }
        },
      }),
    ),
  ),
)

// Across the whole file: no unhandled rejection, process warning or console error.
let trouble: ReturnType<typeof recordProcessTrouble>
beforeAll(() => {
  trouble = recordProcessTrouble()
})
afterAll(() => {
  trouble.stop()
  expect(trouble.problems).toEqual([])
})

describe.each(majors)("%s and the app's 'error' handler", (name, KoaApp) => {
  let hub: Hub
  let server: TestServer | undefined
  afterEach(async () => {
    await hub.close()
    await server?.close()
  })

  it('streams when mounted with plain app.use, without a router', async () => {
    hub = createHub({ heartbeatMs: 0 })
    const app = new KoaApp()
    app.use(compress({ threshold: 0 }))
    app.use(sse(hub))
    server = await listen(createServer(app.callback()))
    const client = await openStream(`${server.url}anything?topic=t`, {
      headers: { 'accept-encoding': 'gzip, br' },
    })
    expect(client.status).toBe(200)
    await waitFor(() => hub.subscriberCount('t') === 1, 'the subscriber', 2000)
    const id = await hub.publish('t', { data: 'plain' })
    expect(await client.waitForEvents(1)).toEqual([{ id, event: undefined, data: 'plain' }])
    client.close()
  })

  it('gets a throwing callback as an app error and a 500', async () => {
    hub = createHub({ heartbeatMs: 0 })
    const errors: Error[] = []
    const app = new KoaApp()
    app.on('error', (err) => errors.push(err))
    const broken = sse(hub, {
      topics: () => {
        throw new Error('topics exploded')
      },
    })
    server = await listen(createServer(app.use(broken).callback()))
    const client = await openStream(`${server.url}events?topic=t`)
    expect(client.status).toBe(500)
    await client.ended
    expect(errors.map((e) => e.message)).toEqual(['topics exploded'])
    expect(hub.subscriberCount()).toBe(0)
  })

  for (const useHttp2 of [false, true]) {
    it(`sees no error when stream clients disconnect, unlike a piped body (${useHttp2 ? 'h2c' : 'HTTP/1.1'})`, async () => {
      hub = createHub({ heartbeatMs: 0 })
      const errors: Array<{ code?: string }> = []
      const app = new KoaApp()
      app.on('error', (err) => errors.push(err))
      app.use(compress())
      const router = new Router()
      router.get('/events', sse(hub))
      // The naive way: since 3.1 Koa pipes a body with stream.pipeline, which reports every disconnect.
      router.get('/piped', (ctx) => {
        ctx.type = 'text/event-stream'
        const body = new PassThrough()
        ctx.body = body
        body.write(': open\n\n')
      })
      app.use(router.routes())
      const callback = app.callback()
      server = await listen(useHttp2 ? http2.createServer(callback) : createServer(callback))

      const piped = await openStream(`${server.url}piped`, { http2: useHttp2 })
      await waitFor(() => piped.comments.length === 1, 'the piped stream to open', 2000)
      piped.close()
      const expected = name === 'Koa 3' ? ['ERR_STREAM_PREMATURE_CLOSE'] : []
      if (expected.length)
        await waitFor(() => errors.length > 0, "Koa 3 to report the piped stream's end", 2000)
      else await new Promise((resolve) => setTimeout(resolve, 100))
      expect(errors.map((e) => e.code)).toEqual(expected)

      const clients = await Promise.all(
        [1, 2, 3].map(() => openStream(`${server!.url}events?topic=t`, { http2: useHttp2 })),
      )
      await waitFor(() => hub.subscriberCount() === 3, 'three subscribers', 2000)
      hub.publish('t', { data: 'hello' })
      for (const client of clients) await client.waitForEvents(1)
      for (const client of clients) client.close()
      await waitFor(() => hub.subscriberCount() === 0, 'subscribers released', 1000)
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(errors.map((e) => e.code)).toEqual(expected)
    })
  }

  it("keeps an earlier middleware's own ctx.onerror: it gets real errors, not clients leaving", async () => {
    hub = createHub({ heartbeatMs: 0 })
    const seen: string[] = []
    const app = new KoaApp()
    app.on('error', () => {})
    app.use(async (ctx, next) => {
      const inherited = ctx.onerror
      ctx.onerror = function (this: typeof ctx, err) {
        // Koa calls it with null when a response finishes without error.
        if (err) seen.push((err as { code?: string }).code ?? err.message)
        inherited.call(this, err)
      }
      await next()
    })
    app.use(
      sse(hub, {
        topics: (ctx) => {
          if (ctx.query.broken) throw new Error('topics exploded')
          return ['t']
        },
      }),
    )
    server = await listen(createServer(app.callback()))
    const { port } = new URL(server.url)
    const socket = await new Promise<Socket>((resolve) => {
      const s = connect(Number(port), '127.0.0.1', () => s.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n'))
      s.on('error', () => {})
      s.once('data', () => resolve(s))
    })
    await waitFor(() => hub.subscriberCount('t') === 1, 'the subscriber', 2000)
    socket.resetAndDestroy()
    hub.publish('t', { data: 'x'.repeat(1000) })
    await waitFor(() => hub.subscriberCount() === 0, 'subscriber released', 2000)
    const broken = await openStream(`${server.url}events?broken=1`)
    expect(broken.status).toBe(500)
    await broken.ended
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(seen).toEqual(['topics exploded'])
  })

  it('sees no error when stream clients reset their connection (TCP RST, as a dropped network does)', async () => {
    hub = createHub({ heartbeatMs: 0 })
    const errors: Array<{ code?: string }> = []
    const app = new KoaApp()
    app.on('error', (err) => errors.push(err))
    app.use(sse(hub))
    server = await listen(createServer(app.callback()))
    const { port } = new URL(server.url)
    const sockets = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<Socket>((resolve) => {
            const socket = connect(Number(port), '127.0.0.1', () =>
              socket.write('GET /events?topic=t HTTP/1.1\r\nHost: x\r\n\r\n'),
            )
            socket.on('error', () => {})
            socket.once('data', () => resolve(socket))
          }),
      ),
    )
    for (const socket of sockets) socket.resetAndDestroy()
    // Writes to the reset sockets fail too (EPIPE or ECONNRESET), whichever the server notices first.
    for (let i = 0; i < 3; i++) hub.publish('t', { data: 'x'.repeat(1000) })
    await waitFor(() => hub.subscriberCount() === 0, 'subscribers released', 2000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(errors.map((e) => e.code)).toEqual([])
  })
})
