import { describeStreamCors } from '@herald/sse-conformance'
import { chromium } from 'playwright-core'
import { start } from '../src/server.js'

describeStreamCors('h3-app', start, chromium)
