import type { QueueEntry } from '../backpressure/queue.js'
import type { Broker, BrokerEntry, BrokerReplay } from '../broker/types.js'
import { encodeEvent } from '../protocol/encode.js'
import type { HubMetrics } from '../types.js'
import type { SubscriberRegistry } from './registry.js'
import type { Subscriber } from './subscriber.js'

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/**
 * Hands already-encoded entries to this process's subscribers: live entries from the broker (published
 * here or in another process), the replay a reconnecting client is owed, and gap notices after a broker
 * outage. Nothing is encoded per subscriber: each one queues the entry's shared bytes.
 */
export class Delivery {
  /** Delivery stamps: increasing per live entry, so a subscriber of several of its topics queues it once. */
  private stamp = 0
  /** The broker's id order, bound (undefined when the broker has none). */
  readonly compare: Broker['compare']

  constructor(
    private readonly registry: SubscriberRegistry,
    private readonly broker: Broker,
    private readonly metrics: HubMetrics,
    private readonly gapEvent: string,
    private readonly report: (error: unknown) => void,
  ) {
    this.compare = broker.compare ? (a, b) => broker.compare!(a, b) : undefined
  }

  /** Queues a live entry for every local subscriber of any of its topics. */
  deliver(entry: BrokerEntry): void {
    const list = entry.topics
    const queued: QueueEntry = {
      seq: ++this.stamp,
      bytes: entry.frame,
      // Topics hold no line breaks, so a joined list never equals a single topic or another list.
      key: entry.key ?? (list.length === 1 ? list[0] : list.join('\n')),
      id: entry.id,
    }
    for (let i = 0; i < list.length; i++) {
      const set = this.registry.subscribersOf(list[i]!)
      if (set) for (const sub of set) sub.offer(queued)
    }
  }

  /** Events may have been missed on `topics`: each of their subscribers gets one gap notice. */
  gap(topics: readonly string[]): void {
    const notice: QueueEntry = { seq: 0, bytes: encodeEvent({ event: this.gapEvent, data: '' }) }
    const seen = new Set<Subscriber>()
    for (const topic of topics) {
      const set = this.registry.subscribersOf(topic)
      if (!set) continue
      for (const sub of set) {
        if (seen.has(sub)) continue
        seen.add(sub)
        this.metrics.gaps++
        sub.queueNotice(notice)
      }
    }
  }

  /**
   * Queues what `sub` missed since `lastEventId` on any of `topics`, in order and once each, or a reset
   * when the broker cannot say exactly. While a remote broker answers, live entries are held and then
   * deduplicated against the replay.
   */
  resume(sub: Subscriber, topics: readonly string[], lastEventId: string): void {
    let result: BrokerReplay | Promise<BrokerReplay>
    try {
      result = this.broker.replay(topics, lastEventId)
    } catch (error) {
      this.report(error)
      result = { kind: 'reset', reason: 'outage' }
    }
    if (!isPromise(result)) {
      sub.finishReplay(result, lastEventId, this.compare)
      return
    }
    sub.startReplay() // (a no-op if the subscriber is held already)
    result.then(
      (r) => sub.finishReplay(r, lastEventId, this.compare),
      (error) => {
        this.report(error)
        sub.finishReplay({ kind: 'reset', reason: 'outage' }, lastEventId)
      },
    )
  }
}
