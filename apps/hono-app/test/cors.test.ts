import { describeStreamCors } from '@herald/sse-conformance'
import { chromium } from 'playwright-core'
import { start } from '../src/server.js'

describeStreamCors('hono-app', start, chromium)
