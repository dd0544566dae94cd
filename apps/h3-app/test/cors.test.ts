import { describeStreamCors } from '@herald/test-utils'
import { chromium } from 'playwright-core'
import { start } from '../src/server.js'

describeStreamCors('h3-app', start, chromium)
