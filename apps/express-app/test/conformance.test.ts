import { runConformance } from '@herald/sse-conformance'
import { start } from '../src/server.js'

// The suite publishes through the protected route with the token the app is started with.
const publishToken = 'conformance-publish'
runConformance({
  name: 'express-app',
  start: (options) => start({ ...options, publishToken, eventsToken: 'conformance-events' }),
  publishHeaders: { authorization: `Bearer ${publishToken}` },
  compression: true,
  auth: { path: '/events-private' },
})
