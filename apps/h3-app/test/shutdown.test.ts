import { fileURLToPath } from 'node:url'
import { describeShutdownUnderLoad } from '@herald/sse-conformance'

describeShutdownUnderLoad('h3-app', { appDir: fileURLToPath(new URL('..', import.meta.url)) })
