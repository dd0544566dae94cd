// Checks that publish through the hub themselves must report a broker outage as their reason, never leave
// it as an unhandled rejection: a hub on the Redis broker with no Redis behind it (nothing listens on its
// port), which is what a Redis outage looks like to the hub. It lives at the root, not in the conformance
// package, as it needs the Redis broker: the conformance package depending on it would make a build cycle.
import {
  BrowserPool,
  backpressureSlowConsumer,
  compressionPerEvent,
  disconnectRelease,
  runCase,
  targetServer,
} from '@herald/sse-conformance'
import { createHub } from '@herald/sse-core'
import { createRedisBroker } from '@herald/sse-redis'
import { afterAll, expect, it } from 'vitest'
import { start } from '../../packages/conformance/test/fixtures/reference-server.js'
// A free port that nobody listens on once released: the Redis that is not there.
import { freePort } from '../../packages/redis/src/test-utils/redis-server.js'

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
process.on('unhandledRejection', onUnhandled)
afterAll(() => {
  process.off('unhandledRejection', onUnhandled)
})

it('checks that publish on the hub fail with the broker error as their reason', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`
  const silent = { warn: () => {}, info: () => {} }
  const source = targetServer({ name: 'reference server, Redis unreachable', start }, (options) =>
    createHub({ ...options, broker: createRedisBroker({ url, namespace: 'conformance', logger: silent }) }),
  )
  const env = { source, browsers: new BrowserPool(), artifactsDir: 'test-artifacts', captureErrors: true }
  const unavailable = /^Redis is unavailable: /

  const compression = await runCase(compressionPerEvent, 'http1', env)
  expect(compression.status).toBe('fail')
  expect(compression.reason).toMatch(
    /^event 1 of 5: hub\.publish rejected \(HeraldBrokerError: Redis is unavailable/,
  )
  for (const check of [disconnectRelease, backpressureSlowConsumer]) {
    const result = await runCase(check, 'http1', env)
    expect(result.status, check.id).toBe('fail')
    expect(result.reason, check.id).toMatch(unavailable)
  }
  await new Promise((r) => setTimeout(r, 50)) // a stray rejection would be reported by now
  expect(unhandled).toEqual([])
})
