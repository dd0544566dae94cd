import { runConformance } from '@herald/sse-conformance'
import { start } from '../src/app.js'

runConformance({ name: 'koa-app', start, compression: true, h2: true, auth: { path: '/events-private' } })
