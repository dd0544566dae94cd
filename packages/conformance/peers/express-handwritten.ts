// The Express handler people write by hand from tutorials, behind `compression` as most Express apps
// are: event-stream headers, flushHeaders, then `data: ...\n\n` per event. No flush, no no-transform.
import { createServer } from 'node:http'
import compression from 'compression'
import express, { type Response } from 'express'
import { listen, type Peer, readPublish, Topics, topicsOf } from './shared.js'

export const expressHandwritten: Peer = {
  name: 'Express by hand + compression',
  built: 'Express 5 behind compression 1.8: a hand-written handler writing "data: ...\\n\\n"',
  start() {
    const topics = new Topics<Response>()
    const app = express()
    app.use(compression())
    app.get('/events', (req, res) => {
      res.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' })
      res.flushHeaders()
      res.on('close', topics.add(topicsOf(req.url), res))
    })
    app.post('/publish', express.json(), (req, res) => {
      const input = readPublish(req.body)
      if (typeof input === 'string') return void res.status(400).json({ error: input })
      for (const stream of topics.of(input.topic)) {
        stream.write(`${input.event ? `event: ${input.event}\n` : ''}data: ${input.data}\n\n`)
      }
      res.json({})
    })
    return listen(createServer(app))
  },
}
