import { chromium } from 'playwright-core'
import { describeSampleAppSecurity } from '../../../packages/core/src/test-utils/sample-app-suite.js'
import { start } from '../src/app.js'

describeSampleAppSecurity('express-app', start, chromium)
