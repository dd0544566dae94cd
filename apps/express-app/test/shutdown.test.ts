import { fileURLToPath } from 'node:url'
import { describeShutdownUnderLoad } from '@herald/test-utils'

describeShutdownUnderLoad('express-app', { appDir: fileURLToPath(new URL('..', import.meta.url)) })
