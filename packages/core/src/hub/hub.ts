import { createMemoryBroker, PUBLISH_NOW } from '../broker/memory.js'
import type { Broker, BrokerEntry, BrokerPublish, BrokerReplay } from '../broker/types.js'
import {
  HeraldBrokerError,
  HeraldClosedError,
  HeraldConfigError,
  HeraldEncodingError,
  HeraldLimitError,
} from '../errors.js'
import { encodeComment, encodeEvent } from '../protocol/encode.js'
import type { FlushableSink } from '../sink/listeners.js'
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
import { SharedTicker, tickInterval } from './heartbeat.js'
import { resolveHubOptions } from './options.js'
import { type HubContext, Subscriber } from './subscriber.js'
import { checkTopics, SharedTopicLists } from './topics.js'

/** The event a subscriber cut for being slow receives last (with `slowConsumerEvent`). */
const SLOW_CONSUMER_EVENT = 'slow-consumer'

/** Retry-After (seconds) for refusals over a subscriber limit. */
const LIMIT_RETRY_AFTER_SECONDS = 5

// Queued frames are flushed when the current task's synchronous code is done (a microtask): every publish
// made in that run leaves in one write per subscriber, and no event waits for another loop iteration.
const defer: (fn: () => void) => void = (fn) => queueMicrotask(fn)

/** Milliseconds on a monotonic clock, as a small integer (no heap number per timestamp). */
const clock = () => Math.floor(performance.now())

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** The field that makes most of an oversized event, for the error. */
function largestField(message: PublishMessage): string {
  let field = 'data'
  let size = message.data?.length ?? 0
  for (const name of ['event', 'comment'] as const) {
    const length = message[name]?.length ?? 0
    if (length > size) {
      field = name
      size = length
    }
  }
  return field
}

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
 * from history, one shared heartbeat timer, and subscriber limits. Every option has a default;
 * a bad option throws `HeraldConfigError` naming it.
 *
 * @example
 * const hub = createHub({ heartbeatMs: 15_000, slowConsumer: 'drop-oldest' })
 * hub.publish('builds', { event: 'progress', data: JSON.stringify({ pct: 40 }) }) // → the id assigned
 */
export function createHub(hubOptions?: HubOptions): Hub {
  const options = resolveHubOptions(hubOptions)
  const broker: Broker =
    options.broker ?? createMemoryBroker({ history: options.history, epoch: options.epoch })
  // The memory broker answers at once: publish through it without a promise per event.
  const publishNow = (broker as Partial<Record<typeof PUBLISH_NOW, (e: BrokerPublish) => BrokerEntry>>)[
    PUBLISH_NOW
  ]
  const compareIds = broker.compare ? (a: string, b: string) => broker.compare!(a, b) : undefined
  /** The broker's outage, while it lasts. */
  let outage: Error | null = null
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
  const byTopic = new Map<string, Set<Subscriber>>()
  const all = new Set<Subscriber>()
  // Per client key: the count, and the key string itself, shared by that client's subscribers.
  const perClient = new Map<string, { key: string; count: number }>()
  const topicLists = new SharedTopicLists()
  const metrics = newMetrics()
  /** Sinks that were ended with bytes still unsent, and when to give up on them. */
  const lingering = new Map<Sink, number>()
  /** Delivery stamps: increasing per live event, so a subscriber of several of its topics queues it once. */
  let stamp = 0
  let subscriberIds = 0
  let closed = false
  let closing: Promise<void> | undefined
  /** While `close()` waits for lingering sinks: resolves it. */
  let closeWaiter: (() => void) | undefined
  let closedRetryAfter = LIMIT_RETRY_AFTER_SECONDS

  // Two lists, swapped at each flush and reused: no array grows from scratch per publish.
  let dirty: Subscriber[] = []
  let spare: Subscriber[] = []
  let flushScheduled = false
  const flushAll = () => {
    flushScheduled = false
    const list = dirty
    dirty = spare
    const now = clock()
    for (let i = 0; i < list.length; i++) list[i]!.flush(now)
    list.length = 0
    spare = list
  }

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

  const ticker = new SharedTicker(tickInterval(options.heartbeatMs, options.drainTimeoutMs), () => {
    const now = clock()
    for (const sub of all) sub.tick(now)
    checkLingering(now)
    if (all.size === 0 && lingering.size === 0) ticker.stop()
  })

  /** Forgets ended sinks that have sent everything, aborts those past their deadline. */
  function checkLingering(now: number): void {
    for (const [sink, deadline] of lingering) {
      if (sink.pending === 0) lingering.delete(sink)
      else if (now >= deadline) {
        lingering.delete(sink)
        sink.abort?.()
      }
    }
    if (lingering.size === 0) closeWaiter?.()
  }

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
    schedule(sub) {
      sub.scheduled = true
      dirty.push(sub)
      if (!flushScheduled) {
        flushScheduled = true
        defer(flushAll)
      }
    },
    release(sub, reason) {
      all.delete(sub)
      topicLists.release(sub.topics)
      for (const topic of sub.topics) {
        const set = byTopic.get(topic)
        if (set?.delete(sub) && set.size === 0) {
          byTopic.delete(topic)
          broker.unwatch(topic)
        }
      }
      if (sub.clientKey !== undefined) {
        const client = perClient.get(sub.clientKey)
        if (client && --client.count === 0) perClient.delete(sub.clientKey)
      }
      metrics.subscribers = all.size
      const hook = options.onUnsubscribe
      if (hook) runHook(() => hook(sub, reason))
    },
    linger(sink) {
      if (sink.pending === 0 || options.drainTimeoutMs === 0) return
      lingering.set(sink, clock() + options.drainTimeoutMs)
      ticker.start()
      // Herald's sinks say when they are done; others are polled (on the tick, or while closing).
      const flushable = sink as Partial<FlushableSink>
      if (typeof flushable.onFlushed === 'function') {
        flushable.onFlushed(() => {
          if (lingering.delete(sink) && lingering.size === 0) closeWaiter?.()
        })
      }
    },
    report,
  }

  function refusal(clientKey: string | undefined): AdmissionRefusal | null {
    if (closed) {
      return {
        status: 503,
        code: 'ERR_HERALD_CLOSED',
        reason: 'The server is shutting down; reconnect later.',
        retryAfterSeconds: closedRetryAfter,
      }
    }
    if (all.size >= options.maxSubscribers) {
      return {
        status: 503,
        code: 'ERR_HERALD_TOO_MANY_SUBSCRIBERS',
        reason: 'Too many subscribers on this server; retry later.',
        retryAfterSeconds: LIMIT_RETRY_AFTER_SECONDS,
      }
    }
    if (
      clientKey !== undefined &&
      (perClient.get(clientKey)?.count ?? 0) >= options.maxSubscribersPerClient
    ) {
      return {
        status: 429,
        code: 'ERR_HERALD_CLIENT_LIMIT',
        reason: 'Too many streams from this client; close one or retry later.',
        retryAfterSeconds: LIMIT_RETRY_AFTER_SECONDS,
      }
    }
    return null
  }

  function countRefusal(r: AdmissionRefusal): void {
    if (r.code === 'ERR_HERALD_CLOSED') metrics.refused.closed++
    else if (r.code === 'ERR_HERALD_TOO_MANY_SUBSCRIBERS') metrics.refused.limit++
    else metrics.refused.clientLimit++
  }

  function replay(sub: Subscriber, topics: readonly string[], lastEventId: string): void {
    let result: BrokerReplay | Promise<BrokerReplay>
    try {
      result = broker.replay(topics, lastEventId)
    } catch (error) {
      report(error)
      result = { kind: 'reset', reason: 'outage' }
    }
    if (!isPromise(result)) {
      sub.finishReplay(result, lastEventId, compareIds)
      return
    }
    // Live events published while the broker answers are held and deduplicated against the replay.
    sub.startReplay()
    result.then(
      (r) => sub.finishReplay(r, lastEventId, compareIds),
      (error) => {
        report(error)
        sub.finishReplay({ kind: 'reset', reason: 'outage' }, lastEventId)
      },
    )
  }

  /** Queues a live entry (from this process or another) for every local subscriber of its topics. */
  function deliver(entry: BrokerEntry): void {
    const list = entry.topics
    const queued = {
      seq: ++stamp,
      bytes: entry.frame,
      // Topics hold no line breaks, so a joined list never equals a single topic or another list.
      key: entry.key ?? (list.length === 1 ? list[0] : list.join('\n')),
      id: entry.id,
    }
    for (const topic of list) {
      const set = byTopic.get(topic)
      if (set) for (const sub of set) sub.offer(queued)
    }
  }

  broker.attach({
    deliver,
    gap(topics) {
      const frame = encodeEvent({ event: options.gapEvent, data: '' })
      const notice = { seq: 0, bytes: frame }
      const seen = new Set<Subscriber>()
      for (const topic of topics) {
        const set = byTopic.get(topic)
        if (!set) continue
        for (const sub of set) {
          if (seen.has(sub)) continue
          seen.add(sub)
          metrics.gaps++
          sub.queueNotice(notice)
        }
      }
    },
    outage(error) {
      outage = error
    },
  })

  /** Delivers to this process only, during an outage with `brokerOutage: 'local'`: no id, no history. */
  function publishLocally(event: BrokerPublish): string {
    metrics.published++
    deliver({ id: '', topics: event.topics, frame: event.body, time: Date.now(), key: event.key })
    return ''
  }

  const hub: Hub = {
    get closed() {
      return closed
    },

    publish(topics: string | readonly string[], message: PublishMessage): Promise<string> {
      if (closed) throw new HeraldClosedError('Cannot publish: the hub is closed', closedRetryAfter)
      const list = checkTopics(topics, rules)
      if (message === null || typeof message !== 'object') {
        throw new HeraldEncodingError('message', 'ERR_SSE_INVALID_MESSAGE', 'must be an object')
      }
      if ((message as { id?: unknown }).id !== undefined) {
        throw new HeraldEncodingError('id', 'ERR_SSE_INVALID_ID', 'is assigned by the hub; leave it out')
      }
      const { key } = message
      if (key !== undefined && typeof key !== 'string') {
        throw new HeraldEncodingError('key', 'ERR_HERALD_INVALID_KEY', `must be a string, got ${typeof key}`)
      }
      // Encoded once, without its id: the broker adds the id line, and every subscriber's queue holds
      // the same bytes.
      const body = encodeEvent({
        data: message.data,
        event: message.event,
        retry: message.retry,
        comment: message.comment,
      })
      if (body.length > rules.maxEventBytes) {
        throw new HeraldEncodingError(
          largestField(message),
          'ERR_HERALD_EVENT_TOO_LARGE',
          `the event encodes to ${body.length} bytes, more than maxEventBytes (${rules.maxEventBytes})`,
        )
      }
      const event: BrokerPublish = key === undefined ? { topics: list, body } : { topics: list, body, key }
      if (publishNow) {
        metrics.published++
        return Promise.resolve(publishNow(event).id)
      }
      if (outage && options.brokerOutage === 'local') return Promise.resolve(publishLocally(event))
      return broker.publish(event).then(
        (entry) => {
          metrics.published++
          return entry.id
        },
        (error: unknown) => {
          if (!(error instanceof HeraldBrokerError)) throw error
          if (options.brokerOutage === 'local') return publishLocally(event)
          throw error
        },
      )
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
      const refused = refusal(clientKey)
      if (refused) {
        countRefusal(refused)
        if (refused.code === 'ERR_HERALD_CLOSED')
          throw new HeraldClosedError(refused.reason, refused.retryAfterSeconds)
        throw new HeraldLimitError(refused.code, refused.status, refused.reason, refused.retryAfterSeconds)
      }
      let key = clientKey
      if (key !== undefined) {
        const client = perClient.get(key)
        if (client) {
          client.count++
          key = client.key
        } else perClient.set(key, { key, count: 1 })
      }
      // Registered under exactly the topics of the shared list, so release finds it under each of them.
      const shared = topicLists.acquire(topics)
      const sub = new Subscriber(context, ++subscriberIds, sink, shared, key)
      all.add(sub)
      for (const topic of shared) {
        let set = byTopic.get(topic)
        if (!set) {
          set = new Set()
          byTopic.set(topic, set)
          broker.watch(topic)
        }
        set.add(sub)
      }
      metrics.subscribers = all.size
      ticker.start()

      if (context.frames.retry) sub.queueDirect({ seq: 0, bytes: context.frames.retry })
      if (options.connectedEvent) {
        sub.queueDirect({ seq: 0, bytes: encodeEvent({ event: options.connectedEvent, data: sub.id }) })
      }
      if (lastEventId) replay(sub, topics, lastEventId)
      // The preamble and a synchronous replay leave now, not a tick later.
      sub.flush(clock())
      const hook = options.onSubscribe
      if (hook) runHook(() => hook(sub))
      if (sink.closed) sub.close('client-gone')
      return sub
    },

    subscriberCount(topic?: string): number {
      if (topic === undefined) return all.size
      return byTopic.get(topic)?.size ?? 0
    },

    metrics(): HubMetrics {
      const history = broker.usage?.()
      return {
        ...metrics,
        subscribers: all.size,
        refused: { ...metrics.refused },
        historyEvents: history?.events ?? 0,
        historyBytes: history?.bytes ?? 0,
      }
    },

    rules,

    checkAdmission(clientKey?: string): AdmissionRefusal | null {
      const refused = refusal(clientKey)
      if (refused) countRefusal(refused)
      return refused
    },

    close(closeOptions: CloseOptions = {}): Promise<void> {
      if (closing) return closing
      if (closeOptions === null || typeof closeOptions !== 'object') {
        throw new HeraldConfigError('close options', 'must be an object')
      }
      const final: Uint8Array[] = []
      if (closeOptions.event !== undefined) {
        if ((closeOptions.event as { id?: unknown }).id !== undefined) {
          throw new HeraldEncodingError('id', 'ERR_SSE_INVALID_ID', 'a closing event carries no id')
        }
        const { data, event, retry, comment } = closeOptions.event
        final.push(encodeEvent({ data, event, retry, comment }))
      }
      if (closeOptions.retryMs !== undefined) {
        final.push(encodeEvent({ retry: closeOptions.retryMs }))
        closedRetryAfter = Math.max(1, Math.ceil(closeOptions.retryMs / 1000))
      }
      closed = true
      for (const sub of [...all]) sub.close('hub-closed', final)
      closing = (async () => {
        // Resolved the moment the last ended stream has sent everything (its sink says so), or a sink
        // without that signal is seen with nothing pending, or the drain deadline aborted the last one.
        if (lingering.size > 0) {
          await new Promise<void>((resolve) => {
            let timer: ReturnType<typeof setTimeout> | undefined
            closeWaiter = () => {
              closeWaiter = undefined
              clearTimeout(timer)
              resolve()
            }
            const check = () => {
              checkLingering(clock())
              if (!closeWaiter) return
              let next = Number.POSITIVE_INFINITY
              let polled = false
              for (const [sink, deadline] of lingering) {
                next = Math.min(next, deadline)
                if (typeof (sink as Partial<FlushableSink>).onFlushed !== 'function') polled = true
              }
              timer = setTimeout(check, polled ? 10 : Math.max(1, next - clock()))
            }
            check()
          })
        }
        ticker.stop()
        await broker.close()
      })()
      return closing
    },
  }
  registries.set(hub, () => ({
    subscribers: all.size,
    topics: byTopic.size,
    lists: topicLists.size,
    clients: perClient.size,
  }))
  return hub
}

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

const registries = new WeakMap<Hub, () => HubRegistry>()

/** @internal For leak tests: the sizes of `hub`'s registries (a hub made by `createHub`). */
export function inspectRegistry(hub: Hub): HubRegistry {
  const read = registries.get(hub)
  if (!read) throw new TypeError('not a hub made by createHub')
  return read()
}
