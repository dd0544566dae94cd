import { fileURLToPath } from 'node:url'
import { describeShutdownUnderLoad } from '@herald/test-utils'

describeShutdownUnderLoad('h3-app', { appDir: fileURLToPath(new URL('..', import.meta.url)) })
