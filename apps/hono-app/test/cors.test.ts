import { chromium } from 'playwright-core'
import { describeStreamCors } from '../../../packages/core/src/test-utils/cors-suite.js'
import { start } from '../src/server.js'

describeStreamCors('hono-app', start, chromium)
