// @fastify/sse, as its README shows: a route with `{ sse: true }`, keepAlive and a first message, then
// reply.sse.send per event.

import fastifySse from '@fastify/sse'
import fastify from 'fastify'
import { type Peer, type PeerServer, readPublish, Topics, topicsOf } from './shared.js'

type Send = (message: { data: string; event?: string }) => Promise<void>

export const fastifySsePeer: Peer = {
  name: '@fastify/sse',
  built: '@fastify/sse 0.6 on Fastify 5: { sse: true } route, reply.sse.keepAlive, reply.sse.send',
  async start(): Promise<PeerServer> {
    const topics = new Topics<Send>()
    const app = fastify()
    await app.register(fastifySse)
    app.get('/events', { sse: true }, async (request, reply) => {
      reply.sse.keepAlive()
      // As the README's connection example does: headers go out with the first message.
      await reply.sse.send({ data: 'connected' })
      const send: Send = (message) => reply.sse.send(message)
      reply.sse.onClose(topics.add(topicsOf(request.url), send))
    })
    app.post('/publish', async (request, reply) => {
      const input = readPublish(request.body)
      if (typeof input === 'string') return reply.code(400).send({ error: input })
      for (const send of topics.of(input.topic)) void send({ data: input.data, event: input.event })
      return {}
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    return {
      url: `http://127.0.0.1:${port}`,
      async close() {
        app.server.closeAllConnections()
        await app.close()
      },
    }
  },
}
