// better-sse on Express, as its docs show: a session per request, a channel per topic, `broadcast`.
import { createServer } from 'node:http'
import { type Channel, createChannel, createSession } from 'better-sse'
import express from 'express'
import { listen, type Peer, readPublish, topicsOf } from './shared.js'

export const betterSse: Peer = {
  name: 'better-sse',
  built: 'better-sse 0.16 on Express 5: createSession, a createChannel per topic, channel.broadcast',
  start() {
    const channels = new Map<string, Channel>()
    const channel = (topic: string) => {
      const c = channels.get(topic) ?? createChannel()
      channels.set(topic, c)
      return c
    }
    const app = express()
    app.get('/events', async (req, res) => {
      const session = await createSession(req, res)
      for (const topic of topicsOf(req.url)) channel(topic).register(session)
    })
    app.post('/publish', express.json(), (req, res) => {
      const input = readPublish(req.body)
      if (typeof input === 'string') return void res.status(400).json({ error: input })
      channels.get(input.topic)?.broadcast(input.data, input.event ?? 'message')
      res.json({})
    })
    return listen(createServer(app))
  },
}
