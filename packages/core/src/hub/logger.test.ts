import { Writable } from 'node:stream'
import { createSwitchableBroker, useHubServer, waitFor } from '@herald/test-utils'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { HeraldConfigError } from '../errors.js'
import { createHub } from './hub.js'

interface Line {
  level: number
  msg: string
  [field: string]: unknown
}

/** A real pino logger writing JSON lines into an array. */
function capture(level: pino.Level) {
  const lines: Line[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n')) if (text) lines.push(JSON.parse(text) as Line)
      done()
    },
  })
  return { logger: pino({ level }, sink), lines }
}

const INFO = 30
const WARN = 40
const DEBUG = 20

describe('the logger hub option (pino)', () => {
  const served = useHubServer('node')

  it('info: one line per stream, when it ends, with reason, duration, frames and bytes; nothing per event', async () => {
    const { logger, lines } = capture('info')
    const hub = await served.serve({ logger, heartbeatMs: 0 })
    const a = await served.open('?topic=news&topic=sport')
    const b = await served.open('?topic=news')
    for (let i = 0; i < 20; i++) await hub.publish('news', { data: `event ${i}` })
    await Promise.all([a.waitForEvents(20), b.waitForEvents(20)])
    expect(lines).toEqual([])
    a.close()
    await waitFor(() => lines.length === 1, 'the line of the closed stream')
    const [line] = lines
    expect(line).toMatchObject({
      level: INFO,
      msg: 'herald: stream closed',
      topics: ['news', 'sport'],
      clientKey: '127.0.0.1',
      reason: 'client-gone',
      frames: 20,
      replayed: 0,
    })
    expect(line!.bytes).toBe(Buffer.byteLength(a.text.slice(a.text.indexOf('id:'))))
    expect(line!.durationMs).toBeGreaterThanOrEqual(0)
    await hub.close()
    await waitFor(() => lines.length === 2, 'the line of the stream the hub closed')
    expect(lines[1]).toMatchObject({ level: INFO, reason: 'hub-closed', frames: 20 })
  })

  it('debug: the connect (topics, client key, Last-Event-ID) and the replay (count, reset or not)', async () => {
    const { logger, lines } = capture('debug')
    const hub = await served.serve({ logger, heartbeatMs: 0 })
    const first = await served.open('?topic=t')
    const ids = [] as string[]
    for (let i = 0; i < 3; i++) ids.push(await hub.publish('t', { data: String(i) }))
    await first.waitForEvents(3)
    const again = await served.open('?topic=t', { headers: { 'last-event-id': ids[0]! } })
    await again.waitForEvents(2)
    const lost = await served.open('?topic=t', { headers: { 'last-event-id': 'from-elsewhere' } })
    await lost.waitForEvents(1)
    const opened = lines.filter((l) => l.msg === 'herald: stream opened')
    expect(opened.map((l) => [l.level, l.topics, l.clientKey, l.lastEventId])).toEqual([
      [DEBUG, ['t'], '127.0.0.1', undefined],
      [DEBUG, ['t'], '127.0.0.1', ids[0]],
      [DEBUG, ['t'], '127.0.0.1', 'from-elsewhere'],
    ])
    const replays = lines.filter((l) => l.msg === 'herald: replay')
    expect(replays).toMatchObject([
      { level: DEBUG, lastEventId: ids[0], reset: false, replayed: 2 },
      { level: DEBUG, lastEventId: 'from-elsewhere', reset: true },
    ])
  })

  it('warn: a slow consumer cut, and limit refusals; info: 401/403/400 refusals', async () => {
    const { logger, lines } = capture('info')
    const hub = await served.serve(
      { logger, heartbeatMs: 0, budgetBytes: 64 * 1024, drainTimeoutMs: 0, maxSubscribersPerClient: 1 },
      { authorize: (req) => (req.headers.authorization === 'Bearer ok' ? true : { status: 401 }) },
    )
    const stalled = await served.open('?topic=t', { paused: true, headers: { authorization: 'Bearer ok' } })
    const kib = 'k'.repeat(1024)
    for (let i = 0; i < 2000 && hub.subscriberCount() > 0; i++) {
      for (let b = 0; b < 50; b++) void hub.publish('t', { data: kib })
      await new Promise((r) => setTimeout(r, 0))
    }
    await waitFor(() => lines.some((l) => l.msg === 'herald: stream cut'), 'the cut')
    expect(lines.find((l) => l.msg === 'herald: stream cut')).toMatchObject({
      level: WARN,
      reason: 'slow-consumer',
    })
    stalled.close()

    const one = await served.open('?topic=t', { headers: { authorization: 'Bearer ok' } })
    expect((await fetch(served.url('?topic=t'), { headers: { authorization: 'Bearer ok' } })).status).toBe(
      429,
    )
    expect((await fetch(served.url('?topic=t'))).status).toBe(401)
    expect((await fetch(served.url('?nothing'), { headers: { authorization: 'Bearer ok' } })).status).toBe(
      400,
    )
    one.close()
    const refusals = lines.filter((l) => l.msg === 'herald: stream refused')
    expect(refusals.map((l) => [l.level, l.reason, l.status])).toEqual([
      [WARN, 'client-limit', 429],
      [INFO, 'unauthorized', 401],
      [INFO, 'bad-request', 400],
    ])
  })

  it('error: a broker outage, info: when it is back', async () => {
    const { logger, lines } = capture('info')
    const broker = createSwitchableBroker({ epoch: 'o' })
    const hub = createHub({ broker, logger })
    broker.down()
    await expect(hub.publish('t', { data: 'x' })).rejects.toThrow()
    broker.up()
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [50, 'herald: broker unavailable'],
      [INFO, 'herald: broker available again'],
    ])
    expect((lines[0]!.err as { message: string }).message).toMatch(/./)
    await hub.close()
  })

  it('is off by default, and a logger without the four methods is refused, naming the option', () => {
    expect(() => createHub({ logger: console as never })).not.toThrow()
    expect(() => createHub({ logger: { info() {} } as never })).toThrow(HeraldConfigError)
    expect(() => createHub({ logger: { info() {} } as never })).toThrow(/logger.*error/)
  })
})
