import { runConformance } from '@herald/sse-conformance'
import { start } from '../src/app.js'

runConformance({ name: 'express-app', start, compression: true, auth: { path: '/events-private' } })
