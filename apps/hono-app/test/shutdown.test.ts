import { fileURLToPath } from 'node:url'
import { describeShutdownUnderLoad } from '@herald/sse-conformance'

describeShutdownUnderLoad('hono-app', { appDir: fileURLToPath(new URL('..', import.meta.url)) })
