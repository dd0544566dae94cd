import { fileURLToPath } from 'node:url'
import { describeShutdownUnderLoad } from '@herald/sse-conformance'

describeShutdownUnderLoad('express-app', { appDir: fileURLToPath(new URL('..', import.meta.url)) })
