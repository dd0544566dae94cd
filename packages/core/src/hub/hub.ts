import { createMemoryBroker } from '../broker/memory.js'
import type { Broker } from '../broker/types.js'
import { HeraldConfigError } from '../errors.js'
import { encodeComment, encodeEvent } from '../protocol/encode.js'
import type {
  AdmissionRefusal,
  CloseOptions,
  Hub,
  HubMetrics,
  HubOptions,
  HubRules,
  PublishMessage,
  Sink,
  SubscribeOptions,
  Subscription,
} from '../types.js'
import { AdmissionControl } from './admission.js'
import { Delivery } from './delivery.js'
import { clock, FlushScheduler } from './flush.js'
import { SharedTicker, tickInterval } from './heartbeat.js'
import { resolveHubOptions } from './options.js'
import { Publisher } from './publish.js'
import { type HubRegistry, SubscriberRegistry } from './registry.js'
import { Shutdown } from './shutdown.js'
import { type HubContext, Subscriber } from './subscriber.js'
import { checkTopics } from './topics.js'

// How the parts fit: `Publisher` (check, encode once, the broker assigns the id and appends) →
// broker → `Delivery` (an encoded entry to local subscribers, found in the `SubscriberRegistry`) →
// each `Subscriber`'s queue, written out by the `FlushScheduler` at the end of the task. `AdmissionControl`
// decides who may subscribe; `Shutdown` ends streams and waits for the last bytes.

/** The event a subscriber cut for being slow receives last (with `slowConsumerEvent`). */
const SLOW_CONSUMER_EVENT = 'slow-consumer'

function newMetrics(): HubMetrics {
  return {
    subscribers: 0,
    published: 0,
    delivered: 0,
    deliveredBytes: 0,
    heartbeats: 0,
    replayed: 0,
    resets: 0,
    dropped: 0,
    gaps: 0,
    coalesced: 0,
    slowConsumerDisconnects: 0,
    drainTimeouts: 0,
    refused: { limit: 0, clientLimit: 0, closed: 0 },
    historyEvents: 0,
    historyBytes: 0,
  }
}

function checkSink(sink: unknown): Sink {
  const s = sink as Partial<Sink> | null
  if (
    s === null ||
    typeof s !== 'object' ||
    typeof s.write !== 'function' ||
    typeof s.onDrain !== 'function' ||
    typeof s.onClose !== 'function' ||
    typeof s.end !== 'function'
  ) {
    throw new HeraldConfigError('sink', 'must be a Sink (write, onDrain, onClose, end, pending, closed)')
  }
  return s as Sink
}

/**
 * Creates a hub: topics, encode-once fan-out with a byte budget per subscriber, Last-Event-ID replay
 * from the broker's history, one shared heartbeat timer, and subscriber limits. The broker is in memory
 * unless `broker` says otherwise. Every option has a default; a bad option throws `HeraldConfigError`
 * naming it.
 *
 * @example
 * const hub = createHub({ heartbeatMs: 15_000, slowConsumer: 'drop-oldest' })
 * const id = await hub.publish('builds', { event: 'progress', data: JSON.stringify({ pct: 40 }) })
 */
export function createHub(hubOptions?: HubOptions): Hub {
  const options = resolveHubOptions(hubOptions)
  const broker: Broker =
    options.broker ?? createMemoryBroker({ history: options.history, epoch: options.epoch })
  const rules: HubRules = Object.freeze({
    maxTopicsPerStream: options.maxTopicsPerStream,
    maxTopicLength: options.maxTopicLength,
    topicPattern: options.topicPattern,
    maxEventBytes: options.maxEventBytes,
    controlEvents: Object.freeze(
      [options.resetEvent, options.gapEvent, SLOW_CONSUMER_EVENT, options.connectedEvent].filter(
        (name): name is string => name !== undefined,
      ),
    ),
  })
  const metrics = newMetrics()

  const report = (error: unknown) => {
    if (options.onError) options.onError(error)
    else
      queueMicrotask(() => {
        throw error
      })
  }
  const runHook = (fn: () => void) => {
    try {
      fn()
    } catch (error) {
      report(error)
    }
  }

  const registry = new SubscriberRegistry(broker)
  const flusher = new FlushScheduler()
  const admission = new AdmissionControl(options, registry, metrics)
  const ticker = new SharedTicker(tickInterval(options.heartbeatMs, options.drainTimeoutMs), () => {
    const now = clock()
    for (const sub of registry.all) sub.tick(now)
    shutdown.checkLingering(now)
    if (registry.count() === 0 && shutdown.idle) ticker.stop()
  })
  const shutdown = new Shutdown(options.drainTimeoutMs, admission, registry, ticker, broker)
  const delivery = new Delivery(registry, broker, metrics, options.gapEvent, report)
  const publisher = new Publisher(options, rules, broker, admission, metrics, delivery)
  broker.attach({
    deliver: (entry) => delivery.deliver(entry),
    gap: (topics) => delivery.gap(topics),
    outage: (error) => {
      publisher.outage = error
    },
  })

  const context: HubContext = {
    options,
    metrics,
    // One write carries at most this much: enough to coalesce a tick's frames, small enough that the
    // backlog of a slow client stays in its queue where the policy can act on it.
    maxWriteBytes: Math.max(16 * 1024, Math.min(64 * 1024, Math.floor(options.budgetBytes / 4))),
    frames: {
      heartbeat: encodeComment(),
      slowConsumer: encodeEvent({ event: SLOW_CONSUMER_EVENT, data: '' }),
      retry: options.retryMs === undefined ? undefined : encodeEvent({ retry: options.retryMs }),
    },
    get now() {
      return clock()
    },
    schedule: (sub) => flusher.schedule(sub),
    release(sub, reason) {
      registry.remove(sub)
      metrics.subscribers = registry.count()
      const hook = options.onUnsubscribe
      if (hook) runHook(() => hook(sub, reason))
    },
    linger: (sink) => shutdown.linger(sink),
    report,
    compareIds: delivery.compare,
  }
  let subscriberIds = 0

  const hub: Hub = {
    get closed() {
      return admission.closed
    },

    publish(topics: string | readonly string[], message: PublishMessage): Promise<string> {
      return publisher.publish(topics, message)
    },

    subscribe(subscribeOptions: SubscribeOptions): Subscription {
      if (subscribeOptions === null || typeof subscribeOptions !== 'object') {
        throw new HeraldConfigError('subscribe options', 'must be an object')
      }
      const sink = checkSink(subscribeOptions.sink)
      const topics = checkTopics(subscribeOptions.topics, rules, rules.maxTopicsPerStream)
      const { lastEventId, clientKey } = subscribeOptions
      if (lastEventId !== undefined && lastEventId !== null && typeof lastEventId !== 'string') {
        throw new HeraldConfigError('lastEventId', 'must be a string, null or undefined')
      }
      if (clientKey !== undefined && typeof clientKey !== 'string') {
        throw new HeraldConfigError('clientKey', 'must be a string or undefined')
      }
      admission.admit(clientKey)
      const sub = registry.register(
        topics,
        clientKey,
        (shared, key) => new Subscriber(context, ++subscriberIds, sink, shared, key),
      )
      metrics.subscribers = registry.count()
      ticker.start()

      if (context.frames.retry) sub.queueDirect({ seq: 0, bytes: context.frames.retry })
      if (options.connectedEvent) {
        sub.queueDirect({ seq: 0, bytes: encodeEvent({ event: options.connectedEvent, data: sub.id }) })
      }
      const watched = registry.whenWatched(sub.topics)
      if (watched) {
        // A remote broker is still subscribing: hold everything, then replay (nothing slips between).
        sub.startReplay()
        watched.then(() => {
          if (lastEventId) delivery.resume(sub, topics, lastEventId)
          else sub.goLive()
        })
      } else if (lastEventId) delivery.resume(sub, topics, lastEventId)
      // The preamble and a synchronous replay leave now, not a tick later.
      sub.flush(clock())
      const hook = options.onSubscribe
      if (hook) runHook(() => hook(sub))
      if (sink.closed) sub.close('client-gone')
      return sub
    },

    subscriberCount(topic?: string): number {
      return registry.count(topic)
    },

    metrics(): HubMetrics {
      const history = broker.usage?.()
      return {
        ...metrics,
        subscribers: registry.count(),
        refused: { ...metrics.refused },
        historyEvents: history?.events ?? 0,
        historyBytes: history?.bytes ?? 0,
      }
    },

    rules,

    checkAdmission(clientKey?: string): AdmissionRefusal | null {
      return admission.check(clientKey)
    },

    close(closeOptions?: CloseOptions): Promise<void> {
      return shutdown.close(closeOptions)
    },
  }
  registries.set(hub, () => registry.sizes())
  return hub
}

export type { HubRegistry }

const registries = new WeakMap<Hub, () => HubRegistry>()

/** @internal For leak tests: the sizes of `hub`'s registries (a hub made by `createHub`). */
export function inspectRegistry(hub: Hub): HubRegistry {
  const read = registries.get(hub)
  if (!read) throw new TypeError('not a hub made by createHub')
  return read()
}
