import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisBroker, type RedisBroker } from './broker.js'
import { HeraldBrokerError } from './seam.js'
import { bytes, frameText, recordingListener } from './test-utils/redis.js'
import { hasRedisServer, OwnRedis } from './test-utils/redis-server.js'

const runnable = hasRedisServer()
if (!runnable) {
  if (process.env.HERALD_REQUIRE_REDIS === '1')
    throw new Error('HERALD_REQUIRE_REDIS=1 but redis-server is not installed')
  console.warn('Skipping the Redis fault test: redis-server is not installed')
}

describe.skipIf(!runnable)('Redis outage (own redis-server, stopped and started)', () => {
  let redis: OwnRedis
  let broker: RedisBroker | undefined
  beforeAll(async () => {
    redis = await OwnRedis.start()
  })
  afterAll(async () => {
    await broker?.close()
    await redis?.stop()
  })

  it('rejects publishes with HeraldBrokerError, logs once, then resubscribes and reports the gap', async () => {
    const warnings: string[] = []
    const infos: string[] = []
    broker = createRedisBroker({
      url: redis.url,
      namespace: 'faults',
      logger: { warn: (_obj, msg) => warnings.push(msg), info: (_obj, msg) => infos.push(msg) },
    })
    const r = recordingListener()
    broker.attach(r.listener)
    broker.watch('f')
    await broker.ready()
    await new Promise((res) => setTimeout(res, 100))
    const before = await broker.publish({ topics: ['f'], body: bytes('data: before\n\n') })
    await r.until(() => r.delivered.length === 1)

    await redis.stop()
    await r.until(() => r.outages.length === 1)
    expect(r.outages[0]).toBeInstanceOf(Error)
    // Many publishes during the outage: each fails at once with the typed error, and one line is logged.
    const failures = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => broker!.publish({ topics: ['f'], body: bytes(`data: ${i}\n\n`) })),
    )
    for (const f of failures) {
      expect(f.status).toBe('rejected')
      const reason = (f as PromiseRejectedResult).reason
      expect(reason).toBeInstanceOf(HeraldBrokerError)
      expect(reason.code).toBe('ERR_HERALD_BROKER_UNAVAILABLE')
      expect(reason.retryAfterSeconds).toBe(5)
    }
    // A client reconnecting now gets a reset (documented), not a hang.
    expect(await broker.replay(['f'], before.id)).toEqual({ kind: 'reset', reason: 'outage' })
    await new Promise((res) => setTimeout(res, 1500)) // several reconnect attempts fail meanwhile
    expect(warnings).toHaveLength(1)

    await redis.start()
    await r.until(() => r.outages.length === 2 && r.gaps.length === 1, 10_000)
    expect(r.outages[1]).toBeNull()
    expect(r.gaps).toEqual([['f']])
    expect(infos).toHaveLength(1)
    // Fan-out resumes on the resubscribed channel; the restarted (empty) store started a new epoch.
    const after = await broker.publish({ topics: ['f'], body: bytes('data: after\n\n') })
    await r.until(() => r.delivered.length === 2)
    expect(frameText(r.delivered[1]!)).toBe(`id: ${after.id}\ndata: after\n\n`)
    expect(after.id).not.toBe(before.id)
    expect(await broker.replay(['f'], before.id)).toEqual({
      kind: 'reset',
      reason: 'other-epoch',
      id: after.id,
    })
    expect(warnings).toHaveLength(1)
  })

  it('a broker started while Redis is down fails its first publishes and recovers without a restart', async () => {
    await redis.stop()
    const warnings: string[] = []
    const b = createRedisBroker({
      url: redis.url,
      namespace: 'faults-start',
      logger: { warn: (_obj, msg) => warnings.push(msg), info: () => {} },
    })
    try {
      await expect(b.ready()).rejects.toBeInstanceOf(HeraldBrokerError)
      await expect(b.publish({ topics: ['f'], body: bytes('data: x\n\n') })).rejects.toBeInstanceOf(
        HeraldBrokerError,
      )
      await redis.start()
      const r = recordingListener()
      b.attach(r.listener)
      await r.until(() => r.outages.includes(null), 10_000)
      const e = await b.publish({ topics: ['f'], body: bytes('data: y\n\n') })
      expect(e.id).toMatch(/-1$/)
      expect(warnings).toHaveLength(1)
    } finally {
      await b.close()
    }
  })

  it('close() returns promptly during an outage and with a frozen Redis (pending commands are cut off)', async () => {
    const quiet = { warn: () => {}, info: () => {} }
    // Redis runs (the previous test started it again).
    const down = createRedisBroker({ url: redis.url, namespace: 'faults-close', logger: quiet })
    down.attach(recordingListener().listener)
    await down.ready()
    await redis.stop()
    down.watch('queued') // a SUBSCRIBE waiting for a connection that is not there
    await new Promise((res) => setTimeout(res, 100))
    let at = Date.now()
    await down.close()
    expect(Date.now() - at).toBeLessThan(1000)

    await redis.start()
    const frozen = createRedisBroker({
      url: redis.url,
      namespace: 'faults-close',
      logger: quiet,
      commandTimeoutMs: 300,
    })
    frozen.attach(recordingListener().listener)
    await frozen.ready()
    redis.pause()
    try {
      const stuck = frozen.publish({ topics: ['f'], body: bytes('data: x\n\n') }).catch((e: unknown) => e)
      at = Date.now()
      await frozen.close()
      expect(Date.now() - at).toBeLessThan(2000)
      expect(await stuck).toBeInstanceOf(Error)
    } finally {
      redis.resume()
    }
  })

  it('a broker started against a frozen Redis fails publishes after commandTimeoutMs and recovers when it answers', async () => {
    const warnings: string[] = []
    redis.pause()
    const b = createRedisBroker({
      url: redis.url,
      namespace: 'faults-frozen-start',
      commandTimeoutMs: 300,
      logger: { warn: (_obj, msg) => warnings.push(msg), info: () => {} },
    })
    const r = recordingListener()
    b.attach(r.listener)
    try {
      const at = Date.now()
      await expect(b.publish({ topics: ['f'], body: bytes('data: x\n\n') })).rejects.toBeInstanceOf(
        HeraldBrokerError,
      )
      expect(Date.now() - at).toBeLessThan(2000)
      await expect(b.ready()).rejects.toBeInstanceOf(HeraldBrokerError)
      redis.resume()
      await r.until(() => r.outages.includes(null), 10_000)
      const e = await b.publish({ topics: ['f'], body: bytes('data: y\n\n') })
      expect(e.id).toMatch(/-\d+$/)
      expect(warnings).toHaveLength(1)
    } finally {
      redis.resume()
      await b.close()
    }
  })
})
