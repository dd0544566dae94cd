// A hub on the Redis broker through an outage, over real HTTP streams: Redis (its own redis-server on
// another loopback port) is killed mid-stream and started again.
import { createHub, HeraldBrokerError, type Hub, type HubOptions, publishFromBody } from '@herald/sse-core'
import { afterEach, describe, expect, it } from 'vitest'
import { createRedisBroker } from '../src/broker.js'
import { hasRedisServer, OwnRedis } from '../src/test-utils/redis-server.js'
import { type Cleanup, serve as serveOn, stream as streamOn, until } from './http.js'

const runnable = hasRedisServer()
if (!runnable) {
  if (process.env.HERALD_REQUIRE_REDIS === '1')
    throw new Error('HERALD_REQUIRE_REDIS=1 but redis-server is not installed')
  console.warn('Skipping the hub outage test: redis-server is not installed')
}

const cleanup: Cleanup = []
const serve = (hub: Hub) => serveOn(hub, cleanup)
const stream = (url: string, lastEventId?: string) => streamOn(url, cleanup, lastEventId)
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function hubOn(
  redis: OwnRedis,
  warnings: string[],
  options: HubOptions = {},
  commandTimeoutMs?: number,
) {
  const broker = createRedisBroker({
    url: redis.url,
    namespace: 'outage',
    logger: { warn: (_o, msg) => warnings.push(msg), info: () => {} },
    commandTimeoutMs,
  })
  const hub = createHub({ broker, heartbeatMs: 100, ...options })
  cleanup.push(() => hub.close())
  await broker.ready()
  return { hub, broker }
}

describe.skipIf(!runnable)('a hub on Redis through an outage', () => {
  it('keeps local streams alive, refuses publishes with 503, resets resumes, then sends gap and fans out again', async () => {
    const redis = await OwnRedis.start()
    cleanup.push(() => redis.stop())
    const warnings: string[] = []
    const { hub, broker } = await hubOn(redis, warnings)
    const other = await hubOn(redis, warnings)
    const url = await serve(hub)
    const live = await stream(`${url}/?topic=f`)
    await broker.watch('f')
    const first = await other.hub.publish('f', { data: 'from the other process' })
    await until(
      () => live.text().includes(`id: ${first}\ndata: from the other process\n\n`),
      'the first event',
    )

    await redis.stop()
    await until(() => warnings.length === 2, 'one warning per broker')
    // Local streams go on: heartbeats keep coming while Redis is down.
    const before = live.text().length
    await until(() => live.text().length > before + 4, 'heartbeats during the outage')
    await expect(hub.publish('f', { data: 'lost' })).rejects.toBeInstanceOf(HeraldBrokerError)
    const refused = await publishFromBody(hub, { topic: 'f', data: 'lost' })
    expect(refused.status).toBe(503)
    expect(refused.headers?.['retry-after']).toBe('5')
    // A client resuming now gets a reset; a new client is admitted.
    const resuming = await stream(`${url}/?topic=f`, first)
    expect(resuming.status).toBe(200)
    await until(() => resuming.text().includes('event: reset'), 'the reset for a resume during the outage')
    expect((await stream(`${url}/?topic=g`)).status).toBe(200)
    // Also on a topic new to this process: the hub is not held until Redis is back.
    const resumingNew = await stream(`${url}/?topic=h`, first)
    await until(() => resumingNew.text().includes('event: reset'), 'the reset on a topic new to the process')
    await new Promise((r) => setTimeout(r, 1000)) // reconnect attempts fail meanwhile, silently
    expect(warnings).toHaveLength(2)

    await redis.start()
    await until(() => live.text().includes('event: gap'), 'the gap event after the outage')
    // The other process's broker reconnects on its own schedule: publish once it is back.
    let after = ''
    await until(
      () => after !== '',
      'the other broker back',
      10_000,
      async () => {
        after = await other.hub.publish('f', { data: 'after the outage' }).catch(() => '')
      },
    )
    await until(
      () => live.text().includes(`id: ${after}\ndata: after the outage\n\n`),
      'fan-out after the outage',
    )
    expect(live.text()).not.toContain('lost')
    expect(warnings).toHaveLength(2)
  })

  it("with brokerOutage 'local', publishes during the outage reach this process's subscribers", async () => {
    const redis = await OwnRedis.start()
    cleanup.push(() => redis.stop())
    const { hub, broker } = await hubOn(redis, [], { brokerOutage: 'local' })
    const url = await serve(hub)
    const live = await stream(`${url}/?topic=f`)
    await broker.watch('f')
    await redis.stop()
    await new Promise((r) => setTimeout(r, 300)) // the broker sees the connection drop
    await hub.publish('f', { data: 'local only' })
    await until(() => live.text().includes('data: local only\n\n'), 'the local event')
  })

  it('a frozen Redis (SIGSTOP) is an outage after commandTimeoutMs: 503, local streams alive, gap once it answers', async () => {
    const redis = await OwnRedis.start()
    cleanup.push(async () => {
      redis.resume() // a stopped process still dies of SIGKILL, but let it go cleanly
      await redis.stop()
    })
    const warnings: string[] = []
    const { hub, broker } = await hubOn(redis, warnings, {}, 300)
    const url = await serve(hub)
    const live = await stream(`${url}/?topic=f`)
    await broker.watch('f')
    const first = await hub.publish('f', { data: 'before the freeze' })
    await until(() => live.text().includes(`id: ${first}\n`), 'the first event')

    redis.pause()
    const started = Date.now()
    // The first publish waits for the timeout, then fails like a publish during an outage.
    const stuck = await publishFromBody(hub, { topic: 'f', data: 'stuck' })
    expect(stuck.status).toBe(503)
    expect(stuck.headers?.['retry-after']).toBe('5')
    expect(Date.now() - started).toBeLessThan(3000)
    expect(warnings).toHaveLength(1)
    // Now the broker knows: the next ones fail at once, and nothing more is logged.
    const at = Date.now()
    await expect(hub.publish('f', { data: 'refused' })).rejects.toBeInstanceOf(HeraldBrokerError)
    expect(Date.now() - at).toBeLessThan(100)
    // Local streams go on (heartbeats), and a resuming client gets a reset instead of hanging.
    const length = live.text().length
    await until(() => live.text().length > length + 4, 'heartbeats while Redis is frozen')
    const resuming = await stream(`${url}/?topic=f`, first)
    await until(() => resuming.text().includes('event: reset'), 'the reset for a resume while frozen')
    expect(warnings).toHaveLength(1)

    redis.resume()
    await until(() => live.text().includes('event: gap'), 'the gap event once Redis answers again')
    const after = await hub.publish('f', { data: 'after the freeze' })
    await until(() => live.text().includes(`id: ${after}\ndata: after the freeze\n\n`), 'fan-out again')
    expect(live.text()).not.toContain('refused')
    expect(warnings).toHaveLength(1)
  })
})
