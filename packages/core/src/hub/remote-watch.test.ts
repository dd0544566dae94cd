import { createSwitchableBroker, TRANSPORTS, useHubServer, waitFor } from '@herald/test-utils'
import { describe, expect, it } from 'vitest'

// A remote broker (Redis) confirms a new topic's subscription after a round trip; until then, live
// events of that topic do not reach this process. The hub holds the topic's new subscribers meanwhile.
describe.each(TRANSPORTS)(
  'subscribers of a topic the broker is still watching, over the %s sink',
  (transport) => {
    const served = useHubServer(transport)

    it('get their connected event once it is watched, then every event', async () => {
      const broker = createSwitchableBroker({ epoch: 'w', watchDelayMs: 150 })
      const hub = await served.serve({ broker, connectedEvent: 'connected', heartbeatMs: 0 })
      const s = await served.open('/?topic=t')
      await waitFor(() => hub.subscriberCount('t') === 1, 'the subscriber')
      // Not delivered live (not watched yet), and not owed to a client without a Last-Event-ID.
      await hub.publish('t', { data: 'too early' })
      expect(s.events).toEqual([])
      await s.waitForEvents(1)
      await hub.publish('t', { data: 'live' })
      await s.waitForEvents(2)
      expect(s.events.map((e) => [e.event, e.data])).toEqual([
        ['connected', '1'],
        [undefined, 'live'],
      ])
    })

    it('resuming from a Last-Event-ID, get what was published while the watch was pending, once', async () => {
      const broker = createSwitchableBroker({ epoch: 'w', watchDelayMs: 150 })
      const hub = await served.serve({ broker, heartbeatMs: 0 })
      const seen = await hub.publish('t', { data: 'seen' })
      const s = await served.open('/?topic=t', { headers: { 'last-event-id': seen } })
      await waitFor(() => hub.subscriberCount('t') === 1, 'the subscriber')
      await hub.publish('t', { data: 'while watching' })
      await s.waitForEvents(1)
      await hub.publish('t', { data: 'live' })
      await s.waitForEvents(2)
      expect(s.events.map((e) => [e.id, e.data])).toEqual([
        ['w-2', 'while watching'],
        ['w-3', 'live'],
      ])
      // A second subscriber of the now watched topic is not held.
      const other = await served.open('/?topic=t', { headers: { 'last-event-id': seen } })
      expect((await other.waitForEvents(2)).map((e) => e.data)).toEqual(['while watching', 'live'])
    })
  },
)
