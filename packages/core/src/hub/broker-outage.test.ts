import { createSwitchableBroker, TRANSPORTS, useHubServer, waitFor } from '@herald/test-utils'
import { describe, expect, it } from 'vitest'
import { HeraldBrokerError } from '../errors.js'

describe.each(TRANSPORTS)('a hub whose broker goes down, over the %s sink', (transport) => {
  const served = useHubServer(transport)

  it('rejects publishes with HeraldBrokerError, keeps streams open, and sends a gap when it is back', async () => {
    const broker = createSwitchableBroker({ epoch: 'o' })
    const hub = await served.serve({ broker, heartbeatMs: 0 })
    const s = await served.open('/?topic=t&topic=u')
    await waitFor(() => hub.subscriberCount() === 1, 'subscriber')
    expect([...broker.watched].sort()).toEqual(['t', 'u'])
    await hub.publish('t', { data: 'before' })
    broker.down()
    await expect(hub.publish('t', { data: 'lost' })).rejects.toBeInstanceOf(HeraldBrokerError)
    await expect(hub.publish('t', { data: 'lost' })).rejects.toMatchObject({ retryAfterSeconds: 3 })
    broker.up()
    await hub.publish('u', { data: 'after' })
    const events = await s.waitForEvents(3)
    // One gap for the subscriber, though both its topics were affected.
    expect(events.map((e) => [e.event, e.id, e.data])).toEqual([
      [undefined, 'o-1', 'before'],
      ['gap', undefined, ''],
      [undefined, 'o-2', 'after'],
    ])
    expect(hub.metrics()).toMatchObject({ published: 2, gaps: 1 })
    s.close()
    await waitFor(() => broker.watched.size === 0, 'the topics to be unwatched')
  })

  it("with brokerOutage 'local', delivers to this process only, without an id", async () => {
    const broker = createSwitchableBroker({ epoch: 'l' })
    const hub = await served.serve({ broker, brokerOutage: 'local', heartbeatMs: 0 })
    const s = await served.open('/?topic=t')
    await waitFor(() => hub.subscriberCount() === 1, 'subscriber')
    broker.down()
    expect(await hub.publish('t', { data: 'local' })).toBe('')
    broker.up()
    expect(await hub.publish('t', { data: 'shared' })).toBe('l-1')
    const events = await s.waitForEvents(3)
    expect(events.map((e) => [e.event, e.id, e.data])).toEqual([
      [undefined, undefined, 'local'],
      ['gap', undefined, ''],
      [undefined, 'l-1', 'shared'],
    ])
    // The local event is not in history: a client resuming from before it is not sent it.
    const late = await served.open('/?topic=t', { headers: { 'last-event-id': 'l-0' } })
    expect((await late.waitForEvents(1)).map((e) => e.data)).toEqual(['shared'])
  })

  it('answers a Last-Event-ID during the outage with a reset, then live events', async () => {
    const broker = createSwitchableBroker({ epoch: 'r' })
    const hub = await served.serve({ broker, heartbeatMs: 0 })
    await hub.publish('t', { data: 'one' })
    broker.down()
    const s = await served.open('/?topic=t', { headers: { 'last-event-id': 'r-1' } })
    await s.waitForEvents(1)
    broker.up()
    await hub.publish('t', { data: 'two' })
    const events = await s.waitForEvents(3)
    expect(events.map((e) => [e.event, e.id, e.data])).toEqual([
      ['reset', undefined, ''],
      ['gap', undefined, ''],
      [undefined, 'r-2', 'two'],
    ])
    expect(hub.metrics().resets).toBe(1)
  })
})
