// The suite against a correct server built from the core: every check must pass, over HTTP/1.1 and h2c.
import { runConformance } from '../src/index.js'
import { start } from './fixtures/reference-server.js'

runConformance({
  name: 'reference server (node:http + compression + core)',
  start,
  h2: true,
  auth: { path: '/events-private' },
})
