import { describeSampleAppSecurity } from '@herald/sse-conformance'
import { chromium } from 'playwright-core'
import { start } from '../src/server.js'

describeSampleAppSecurity('koa-app', start, chromium)
