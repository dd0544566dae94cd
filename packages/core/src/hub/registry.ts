import type { Subscriber } from './subscriber.js'
import { SharedTopicLists } from './topics.js'

/** What a hub holds for its subscribers; every count is 0 once they are all gone. */
export interface HubRegistry {
  subscribers: number
  /** Topics with a subscriber set. */
  topics: number
  /** Distinct topic lists shared between subscribers. */
  lists: number
  /** Client keys counted for `maxSubscribersPerClient`. */
  clients: number
}

/** What the registry tells the broker: the first local subscriber of a topic came, the last one left. */
export interface TopicWatcher {
  watch(topic: string): void | Promise<void>
  unwatch(topic: string): void
}

/**
 * Who listens to what in this process: subscribers by topic, the count per client key (for
 * `maxSubscribersPerClient`), and identical topic lists shared between subscribers. Lists of several
 * topics are keyed by `topicListKey` (each topic behind its length), never by joining with a separator:
 * topics come from query strings, and `['a', 'b']` must not share a key with `['a\nb']`.
 */
export class SubscriberRegistry {
  readonly all = new Set<Subscriber>()
  private readonly byTopic = new Map<string, Set<Subscriber>>()
  // Per client key: the count, and the key string itself, shared by that client's subscribers.
  private readonly perClient = new Map<string, { key: string; count: number }>()
  private readonly lists = new SharedTopicLists()
  /** Watches the broker has not confirmed yet, by topic (a remote broker subscribing). */
  private readonly pending = new Map<string, Promise<void>>()

  constructor(private readonly watcher: TopicWatcher) {}

  /** Subscribers of `topic` (undefined when it has none). The hot path of delivery. */
  subscribersOf(topic: string): Set<Subscriber> | undefined {
    return this.byTopic.get(topic)
  }

  /** Settles once the broker confirmed it watches every one of `topics`; undefined when it already does. */
  whenWatched(topics: readonly string[]): Promise<unknown> | undefined {
    if (this.pending.size === 0) return undefined
    const waits: Promise<void>[] = []
    for (const topic of topics) {
      const p = this.pending.get(topic)
      if (p) waits.push(p)
    }
    return waits.length === 0 ? undefined : Promise.all(waits)
  }

  /** Subscribers counted for `clientKey`. */
  clientCount(clientKey: string): number {
    return this.perClient.get(clientKey)?.count ?? 0
  }

  /** Subscribers on `topic`, or in all without one. */
  count(topic?: string): number {
    if (topic === undefined) return this.all.size
    return this.byTopic.get(topic)?.size ?? 0
  }

  /**
   * Registers the subscriber `make` builds from the shared copies of `topics` and `clientKey` (one
   * array and one string however many streams share them), under exactly those topics.
   */
  register(
    topics: readonly string[],
    clientKey: string | undefined,
    make: (topics: readonly string[], clientKey: string | undefined) => Subscriber,
  ): Subscriber {
    let key = clientKey
    if (key !== undefined) {
      const client = this.perClient.get(key)
      if (client) {
        client.count++
        key = client.key
      } else this.perClient.set(key, { key, count: 1 })
    }
    const shared = this.lists.acquire(topics)
    const sub = make(shared, key)
    this.all.add(sub)
    for (const topic of shared) {
      let set = this.byTopic.get(topic)
      if (!set) {
        set = new Set()
        this.byTopic.set(topic, set)
        this.watch(topic)
      }
      set.add(sub)
    }
    return sub
  }

  /** Forgets `sub` everywhere it was registered; called once per subscriber. */
  remove(sub: Subscriber): void {
    this.all.delete(sub)
    this.lists.release(sub.topics)
    for (const topic of sub.topics) {
      const set = this.byTopic.get(topic)
      if (set?.delete(sub) && set.size === 0) {
        this.byTopic.delete(topic)
        this.pending.delete(topic)
        this.watcher.unwatch(topic)
      }
    }
    if (sub.clientKey !== undefined) {
      const client = this.perClient.get(sub.clientKey)
      if (client && --client.count === 0) this.perClient.delete(sub.clientKey)
    }
  }

  private watch(topic: string): void {
    const confirmed = this.watcher.watch(topic)
    if (!confirmed || typeof confirmed.then !== 'function') return
    // A failed watch (broker down) does not hold subscribers forever: the broker sends a gap once back.
    const settled: Promise<void> = confirmed.then(
      () => {},
      () => {},
    )
    this.pending.set(topic, settled)
    settled.then(() => {
      if (this.pending.get(topic) === settled) this.pending.delete(topic)
    })
  }

  /** The sizes of every map, for leak tests. */
  sizes(): HubRegistry {
    return {
      subscribers: this.all.size,
      topics: this.byTopic.size,
      lists: this.lists.size,
      clients: this.perClient.size,
    }
  }
}
