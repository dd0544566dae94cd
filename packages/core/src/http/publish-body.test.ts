import {
  createSwitchableBroker,
  handler,
  openStream,
  type StreamClient,
  startServer,
  type TestServer,
} from '@herald/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { createHub } from '../hub/hub.js'
import type { Hub } from '../types.js'
import { publishFromBody } from './publish-body.js'

describe('publishFromBody', () => {
  let hub: Hub | undefined
  let server: TestServer | undefined
  afterEach(async () => {
    await server?.close()
    await hub?.close()
    server = hub = undefined
  })

  const invalid: [string, unknown, RegExp][] = [
    ['a body that is not an object', 'data', /body must be a JSON object/],
    ['null', null, /body must be a JSON object/],
    ['an array', [{ topic: 't', data: 'x' }], /body must be a JSON object/],
    ['an id', { topic: 't', data: 'x', id: '7' }, /id is assigned by the hub/],
    ['an unknown field', { topic: 't', data: 'x', retry: 5 }, /unknown field "retry"/],
    ['a missing topic', { data: 'x' }, /topic is required/],
    ['a topic that is not a string', { topic: 1, data: 'x' }, /topic is required and must be a string/],
    ['a missing data', { topic: 't' }, /data is required/],
    ['an event that is not a string', { topic: 't', event: 3, data: 'x' }, /event must be a string/],
    ['an event with a line break', { topic: 't', event: 'a\nb', data: 'x' }, /event/],
    ['an empty topic', { topic: '', data: 'x' }, /topic/],
    ['a topic with a line break', { topic: 'a\nb', data: 'x' }, /control characters/],
    ['the reset notice', { topic: 't', event: 'reset', data: '' }, /event "reset" is reserved/],
    ['the gap notice', { topic: 't', event: 'gap', data: '3' }, /event "gap" is reserved/],
    ['the slow-consumer notice', { topic: 't', event: 'slow-consumer', data: '' }, /reserved/],
    ['the connected event', { topic: 't', event: 'hello', data: '1' }, /event "hello" is reserved/],
    [
      'an event over maxEventBytes',
      { topic: 't', data: 'x'.repeat(2048) },
      /data.*more than maxEventBytes \(1024\)/,
    ],
  ]
  for (const [what, body, reason] of invalid) {
    it(`refuses ${what} with 400 and publishes nothing`, async () => {
      hub = createHub({ connectedEvent: 'hello', maxEventBytes: 1024 })
      const outcome = await publishFromBody(hub, body)
      expect(outcome.status).toBe(400)
      expect((outcome.body as { error: string }).error).toMatch(reason)
      expect(hub.metrics().published).toBe(0)
    })
  }

  it('refuses the names a hub was configured with, and lets the defaults through when renamed', async () => {
    hub = createHub({ resetEvent: 'herald-reset', gapEvent: 'herald-gap' })
    expect(hub.rules.controlEvents).toEqual(['herald-reset', 'herald-gap', 'slow-consumer'])
    expect((await publishFromBody(hub, { topic: 't', event: 'herald-gap', data: '' })).status).toBe(400)
    expect((await publishFromBody(hub, { topic: 't', event: 'reset', data: '' })).status).toBe(200)
  })

  it('answers 503 on a closed hub', async () => {
    hub = createHub()
    await hub.close()
    const outcome = await publishFromBody(hub, { topic: 't', data: 'x' })
    expect(outcome.status).toBe(503)
    expect((outcome.body as { error: string }).error).toMatch(/closed/)
  })

  it('delivers a valid publish to a real subscriber, and an invalid one to nobody', async () => {
    hub = createHub({ epoch: 'pb' })
    server = await startServer(handler('node', hub))
    const stream: StreamClient = await openStream(`${server.url}?topic=news`)
    expect((await publishFromBody(hub, { topic: 'news', event: 'a\nb', data: 'bad' })).status).toBe(400)
    expect((await publishFromBody(hub, { topic: 'news', data: 'bad', id: 'pb-9' })).status).toBe(400)
    expect(await publishFromBody(hub, { topic: 'news', event: 'headline', data: 'hello' })).toEqual({
      status: 200,
      body: { id: 'pb-1' },
    })
    expect(await publishFromBody(hub, { topic: 'news', data: 'plain' })).toEqual({
      status: 200,
      body: { id: 'pb-2' },
    })
    const events = await stream.waitForEvents(2)
    expect(events.map(({ id, event, data }) => ({ id, event, data }))).toEqual([
      { id: 'pb-1', event: 'headline', data: 'hello' },
      { id: 'pb-2', event: undefined, data: 'plain' },
    ])
    expect(stream.text).not.toContain('bad')
    expect(hub.metrics().published).toBe(2)
    stream.close()
  })
})

describe('publishFromBody on a broker that is down', () => {
  it('answers 503 with Retry-After, and 200 again once it is back', async () => {
    const broker = createSwitchableBroker({ epoch: 'sw' })
    const hub = createHub({ broker })
    broker.down()
    const outcome = await publishFromBody(hub, { topic: 't', data: 'x' })
    expect(outcome).toEqual({
      status: 503,
      body: { error: 'the test broker is down' },
      headers: { 'retry-after': '3' },
    })
    broker.up()
    expect(await publishFromBody(hub, { topic: 't', data: 'x' })).toEqual({
      status: 200,
      body: { id: 'sw-1' },
    })
    await hub.close()
  })

  it('answers 503 with Retry-After on a closed hub', async () => {
    const hub = createHub()
    await hub.close({ retryMs: 4000 })
    expect(await publishFromBody(hub, { topic: 't', data: 'x' })).toMatchObject({
      status: 503,
      headers: { 'retry-after': '4' },
    })
  })
})
