import { fileURLToPath } from 'node:url'
import { describeShutdownUnderLoad } from '@herald/test-utils'

describeShutdownUnderLoad('koa-app', { appDir: fileURLToPath(new URL('..', import.meta.url)) })
