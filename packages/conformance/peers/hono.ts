// Hono's streamSSE on @hono/node-server, as Hono's streaming helper docs show: writeSSE per event, the
// callback kept open until the client aborts.
import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { type SSEStreamingApi, streamSSE } from 'hono/streaming'
import { listen, type Peer, readPublish, Topics, topicsOf } from './shared.js'

export const honoStreamSse: Peer = {
  name: 'hono streamSSE',
  built: 'Hono 4.13 streamSSE on @hono/node-server: stream.writeSSE per event',
  start() {
    const topics = new Topics<SSEStreamingApi>()
    const app = new Hono()
    app.get('/events', (c) =>
      streamSSE(c, async (stream) => {
        const remove = topics.add(topicsOf(c.req.url), stream)
        await new Promise<void>((resolve) => stream.onAbort(resolve))
        remove()
      }),
    )
    app.post('/publish', async (c) => {
      const input = readPublish(await c.req.json().catch(() => undefined))
      if (typeof input === 'string') return c.json({ error: input }, 400)
      for (const stream of topics.of(input.topic))
        void stream.writeSSE({ data: input.data, event: input.event })
      return c.json({})
    })
    // `serve` without listening: the same node:http server, on a free port.
    return listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  },
}
