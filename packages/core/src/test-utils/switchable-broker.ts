// A broker that can be taken down and brought back, for the hub's outage paths. It wraps the real
// memory broker and behaves as a remote one: publish and replay answer asynchronously, and while it is
// down they fail with HeraldBrokerError, as a broker that lost its server does.
import { createMemoryBroker, type MemoryBrokerOptions } from '../broker/memory.js'
import type { Broker, BrokerListener } from '../broker/types.js'
import { HeraldBrokerError } from '../errors.js'

export interface SwitchableBroker extends Broker {
  /** Takes the broker down: the hub hears `outage(error)`. */
  down(): void
  /** Brings it back: the hub hears `outage(null)`, then `gap` for every watched topic. */
  up(): void
  readonly watched: ReadonlySet<string>
}

export function createSwitchableBroker(options: MemoryBrokerOptions = {}): SwitchableBroker {
  const inner = createMemoryBroker(options)
  const watched = new Set<string>()
  let listener: BrokerListener | undefined
  let failure: HeraldBrokerError | undefined
  return {
    watched,
    attach(l) {
      listener = l
      inner.attach(l)
    },
    async publish(event) {
      await Promise.resolve()
      if (failure) throw failure
      return inner.publish(event)
    },
    watch: (topic) => watched.add(topic),
    unwatch: (topic) => watched.delete(topic),
    async replay(topics, lastEventId) {
      await Promise.resolve()
      if (failure) return { kind: 'reset', reason: 'outage' }
      return inner.replay(topics, lastEventId)
    },
    compare: inner.compare,
    usage: inner.usage,
    close: () => inner.close(),
    down() {
      failure = new HeraldBrokerError('the test broker is down', 3, { cause: new Error('ECONNREFUSED') })
      listener?.outage(failure)
    },
    up() {
      failure = undefined
      listener?.outage(null)
      listener?.gap([...watched])
    },
  }
}
