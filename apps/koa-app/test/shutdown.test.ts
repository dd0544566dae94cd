import { fileURLToPath } from 'node:url'
import { describeShutdownUnderLoad } from '../../../packages/core/src/test-utils/shutdown-under-load.js'

describeShutdownUnderLoad('koa-app', { appDir: fileURLToPath(new URL('..', import.meta.url)) })
