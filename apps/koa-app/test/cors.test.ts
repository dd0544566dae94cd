import { chromium } from 'playwright-core'
import { describeStreamCors } from '../../../packages/core/src/test-utils/cors-suite.js'
import { start } from '../src/server.js'

describeStreamCors('koa-app', start, chromium)
