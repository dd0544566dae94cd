import { describeStreamCors } from '@herald/test-utils'
import { chromium } from 'playwright-core'
import { start } from '../src/server.js'

describeStreamCors('koa-app', start, chromium)
