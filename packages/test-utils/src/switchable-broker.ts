// A broker that can be taken down and brought back, for the hub's outage paths. It wraps the real
// memory broker and behaves as a remote one: publish and replay answer asynchronously, and while it is
// down they fail with HeraldBrokerError, as a broker that lost its server does.

import type { Broker, BrokerListener } from '@herald/sse-core'
import { createMemoryBroker, HeraldBrokerError, type MemoryBrokerOptions } from '@herald/sse-core'

export interface SwitchableBroker extends Broker {
  /** Takes the broker down: the hub hears `outage(error)`. */
  down(): void
  /** Brings it back: the hub hears `outage(null)`, then `gap` for every watched topic. */
  up(): void
  readonly watched: ReadonlySet<string>
}

export interface SwitchableBrokerOptions extends MemoryBrokerOptions {
  /** How long a replay takes to answer (a remote round trip). Default: one microtask. */
  replayDelayMs?: number
  /**
   * How long watching a topic takes to be confirmed, as a remote subscription does. Until then, live
   * entries of that topic do not reach this process (they are in history only). Default: at once.
   */
  watchDelayMs?: number
}

export function createSwitchableBroker(options: SwitchableBrokerOptions = {}): SwitchableBroker {
  const { replayDelayMs, watchDelayMs, ...memory } = options
  const inner = createMemoryBroker(memory)
  const watched = new Set<string>()
  /** Topics whose watch is confirmed: only their entries are delivered live. */
  const live = new Set<string>()
  let listener: BrokerListener | undefined
  let failure: HeraldBrokerError | undefined
  return {
    watched,
    attach(l) {
      listener = l
      inner.attach({
        ...l,
        deliver: (entry) => {
          if (entry.topics.some((t) => live.has(t))) l.deliver(entry)
        },
      })
    },
    async publish(event) {
      await Promise.resolve()
      if (failure) throw failure
      return inner.publish(event)
    },
    watch(topic) {
      watched.add(topic)
      if (watchDelayMs === undefined) {
        live.add(topic)
        return
      }
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          if (watched.has(topic)) live.add(topic)
          resolve()
        }, watchDelayMs),
      )
    },
    unwatch(topic) {
      watched.delete(topic)
      live.delete(topic)
    },
    async replay(topics, lastEventId) {
      if (replayDelayMs === undefined) await Promise.resolve()
      else await new Promise((resolve) => setTimeout(resolve, replayDelayMs))
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
