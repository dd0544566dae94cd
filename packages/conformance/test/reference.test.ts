// The suite against a correct server built from the core: every check must pass, over HTTP/1.1 and h2c.
import { runConformance } from '../src/index.js'
import { start } from './fixtures/reference-server.js'

runConformance({
  name: 'reference server (node:http + compression + core)',
  start,
  h2: true,
  auth: { path: '/events-private' },
})

// A hub that greets every subscriber with an event and a retry hint: the checks must count only their own.
runConformance(
  {
    name: 'reference server with a connect event',
    start,
    hubOptions: { connectedEvent: 'connected', retryMs: 1000 },
  },
  {
    only: [
      'encoding.round-trip',
      'encoding.bad-publish',
      'backpressure.burst',
      'backpressure.slow-consumer',
      'replay.header',
      'replay.reset',
      'heartbeat.idle',
    ],
  },
)
