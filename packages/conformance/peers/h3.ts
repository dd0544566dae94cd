// h3's createEventStream, as h3's docs show: push per event, the stream returned from the handler,
// served on node:http through h3's Node handler.
import { createServer } from 'node:http'
import { createEventStream, type EventStream, H3, readBody } from 'h3'
import { toNodeHandler } from 'h3/node'
import { listen, type Peer, readPublish, Topics, topicsOf } from './shared.js'

export const h3EventStream: Peer = {
  name: 'h3 createEventStream',
  built: 'h3 2.0 createEventStream on node:http: eventStream.push per event',
  start() {
    const topics = new Topics<EventStream>()
    const app = new H3()
    app.get('/events', (event) => {
      const stream = createEventStream(event)
      stream.onClosed(topics.add(topicsOf(event.req.url), stream))
      return stream
    })
    app.post('/publish', async (event) => {
      const input = readPublish(await readBody(event).catch(() => undefined))
      if (typeof input === 'string') {
        event.res.status = 400
        return { error: input }
      }
      for (const stream of topics.of(input.topic)) void stream.push({ data: input.data, event: input.event })
      return {}
    })
    return listen(createServer(toNodeHandler(app)))
  },
}
