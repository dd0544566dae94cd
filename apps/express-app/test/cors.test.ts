import { describeStreamCors } from '@herald/test-utils'
import { chromium } from 'playwright-core'
import { start } from '../src/server.js'

describeStreamCors('express-app', start, chromium)
