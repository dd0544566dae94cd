import {
  HeraldConfigError,
  type Hub,
  type HubMetrics,
  observeHub,
  type RefusalReason,
} from '@herald/sse-core'
import {
  Counter,
  Gauge,
  register as globalRegistry,
  Histogram,
  type Metric,
  type Registry,
} from 'prom-client'

/** Options of `registerHeraldMetrics`. */
export interface HeraldMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's global `register`. */
  registry?: Registry
  /** Starts every metric name. Default `herald_`. Must match `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
  prefix?: string
  /**
   * Topics that get their own `herald_topic_subscribers{topic="…"}` series. Only these: a label per
   * topic a client may invent would let clients grow the scrape without bound. Default none.
   */
  topics?: readonly string[]
  /** Labels put on every series (e.g. `{ instance: 'eu-1' }`), for several hubs in one registry. */
  labels?: Readonly<Record<string, string>>
  /**
   * Upper bounds (seconds) of `herald_delivery_latency_seconds`. Default 1 ms to 10 s. Observing costs a
   * little per event per subscriber; `false` leaves the histogram out.
   */
  latencyBuckets?: readonly number[] | false
}

/** What `registerHeraldMetrics` registered; `unregister()` takes the metrics out of the registry again. */
export interface HeraldMetrics {
  /** Names of the metrics registered, prefix included. */
  readonly names: readonly string[]
  unregister(): void
}

/** A counter fed from one cumulative field of `hub.metrics()`. */
interface CounterSpec {
  name: string
  help: string
  read: (m: HubMetrics) => number | undefined
}

const COUNTERS: readonly CounterSpec[] = [
  { name: 'events_published_total', help: 'Events published on the hub.', read: (m) => m.published },
  {
    name: 'frames_delivered_total',
    help: 'Event frames written to subscribers (heartbeats excluded).',
    read: (m) => m.delivered,
  },
  {
    name: 'delivered_bytes_total',
    help: 'Bytes of event frames written to subscribers.',
    read: (m) => m.deliveredBytes,
  },
  {
    name: 'heartbeats_total',
    help: 'Heartbeat comments written to idle streams.',
    read: (m) => m.heartbeats,
  },
  {
    name: 'replayed_events_total',
    help: 'Events replayed from history to reconnecting clients (Last-Event-ID).',
    read: (m) => m.replayed,
  },
  {
    name: 'replay_resets_total',
    help: 'Reconnects whose Last-Event-ID could not be replayed exactly; the client got a reset event.',
    read: (m) => m.resets,
  },
  {
    name: 'dropped_events_total',
    help: 'Events dropped from slow subscribers\u2019 queues (drop-oldest policy).',
    read: (m) => m.dropped,
  },
  {
    name: 'coalesced_events_total',
    help: 'Queued events replaced by a newer one with the same key (latest policy).',
    read: (m) => m.coalesced,
  },
  { name: 'gaps_total', help: 'Gap notices sent after events were dropped.', read: (m) => m.gaps },
  {
    name: 'slow_consumer_disconnects_total',
    help: 'Subscribers disconnected for going over their byte budget.',
    read: (m) => m.slowConsumerDisconnects,
  },
  {
    name: 'drain_timeouts_total',
    help: 'Subscribers cut because their connection took nothing for the drain deadline.',
    read: (m) => m.drainTimeouts,
  },
]

/** Refusal reasons, as label values, and where `hub.metrics().refused` keeps their counts. */
const REFUSALS: ReadonlyArray<readonly [reason: string, field: keyof HubMetrics['refused']]> = [
  ['too-many-subscribers', 'limit'],
  ['client-limit', 'clientLimit'],
  ['closed', 'closed'],
]

/** Refusals decided before the hub's limits (by `admitStream`), counted from the hub's observer. */
const REQUEST_REFUSALS: readonly RefusalReason[] = ['bad-request', 'unauthorized', 'forbidden']

const DEFAULT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

function checkOptions(options: HeraldMetricsOptions): {
  registry: Registry
  prefix: string
  topics: string[]
  labels: Record<string, string>
  buckets: readonly number[] | false
} {
  if (options === null || typeof options !== 'object') {
    throw new HeraldConfigError('options', 'must be an object')
  }
  const prefix = options.prefix ?? 'herald_'
  if (typeof prefix !== 'string' || !METRIC_NAME.test(`${prefix}x`)) {
    throw new HeraldConfigError(
      'prefix',
      'must be a string of letters, digits, _ and : (not starting with a digit)',
    )
  }
  const topics = options.topics ?? []
  if (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string' || t === '')) {
    throw new HeraldConfigError('topics', 'must be an array of non-empty topic names')
  }
  const labels = options.labels ?? {}
  if (labels === null || typeof labels !== 'object') {
    throw new HeraldConfigError('labels', 'must be an object of label name to string value')
  }
  for (const [name, value] of Object.entries(labels)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__') || name === 'topic' || name === 'reason') {
      throw new HeraldConfigError(
        `labels.${name}`,
        'must be a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not __…, topic or reason)',
      )
    }
    if (typeof value !== 'string') throw new HeraldConfigError(`labels.${name}`, 'must be a string')
  }
  const registry = options.registry ?? globalRegistry
  if (typeof registry?.registerMetric !== 'function') {
    throw new HeraldConfigError('registry', 'must be a prom-client Registry')
  }
  const buckets = options.latencyBuckets ?? DEFAULT_BUCKETS
  if (
    buckets !== false &&
    (!Array.isArray(buckets) ||
      buckets.length === 0 ||
      buckets.some((b, i) => typeof b !== 'number' || !(b > 0) || (i > 0 && b <= buckets[i - 1]!)))
  ) {
    throw new HeraldConfigError('latencyBuckets', 'must be false or increasing positive numbers of seconds')
  }
  return { registry, prefix, topics: [...new Set(topics)], labels: { ...labels }, buckets }
}

/**
 * Registers a hub's gauges and counters with prom-client. Values are read from `hub.metrics()` when the
 * registry is scraped, so nothing runs on the hub's hot path. Counters end in `_total`, sizes are in
 * bytes; subscribers per topic are exported only for the `topics` you name.
 *
 * @example
 * import { createHub } from '@herald/sse-core'
 * import { registerHeraldMetrics } from '@herald/sse-prometheus'
 * import { register } from 'prom-client'
 *
 * const hub = createHub()
 * registerHeraldMetrics(hub, { topics: ['builds'] })
 * app.get('/metrics', async (_req, res) => res.type(register.contentType).send(await register.metrics()))
 */
export function registerHeraldMetrics(hub: Hub, options: HeraldMetricsOptions = {}): HeraldMetrics {
  if (hub === null || typeof hub !== 'object' || typeof hub.metrics !== 'function') {
    throw new HeraldConfigError('hub', 'must be a hub made by createHub')
  }
  const { registry, prefix, topics, labels, buckets } = checkOptions(options)
  const refusedHere: Record<string, number> = { 'bad-request': 0, unauthorized: 0, forbidden: 0 }
  let detach: (() => void) | undefined
  const constant = Object.keys(labels)
  const names: string[] = []
  // One `hub.metrics()` per scrape, shared by every metric read in that scrape.
  let snapshot: HubMetrics | undefined
  const read = (): HubMetrics => {
    if (!snapshot) {
      snapshot = hub.metrics()
      queueMicrotask(() => {
        snapshot = undefined
      })
    }
    return snapshot
  }
  const add = (name: string, metric: Metric): void => {
    registry.registerMetric(metric)
    names.push(name)
  }
  const unregister = () => {
    detach?.()
    detach = undefined
    for (const name of names.splice(0)) registry.removeSingleMetric(name)
  }
  try {
    registerAll()
  } catch (error) {
    // A name taken halfway through: leave the registry as it was.
    unregister()
    throw error
  }
  return { names, unregister }

  function registerAll(): void {
    add(
      `${prefix}subscribers`,
      new Gauge({
        name: `${prefix}subscribers`,
        help: 'Open event streams (subscribers) on the hub.',
        labelNames: constant,
        registers: [],
        collect() {
          this.set(labels, read().subscribers)
        },
      }),
    )
    if (topics.length > 0) {
      add(
        `${prefix}topic_subscribers`,
        new Gauge({
          name: `${prefix}topic_subscribers`,
          help: 'Open event streams subscribed to a topic (only for the topics named in the configuration).',
          labelNames: [...constant, 'topic'],
          registers: [],
          collect() {
            for (const topic of topics) this.set({ ...labels, topic }, hub.subscriberCount(topic))
          },
        }),
      )
    }
    for (const spec of COUNTERS) {
      add(
        `${prefix}${spec.name}`,
        new Counter({
          name: `${prefix}${spec.name}`,
          help: spec.help,
          labelNames: constant,
          registers: [],
          collect() {
            // The hub keeps the running total; the counter shows it as it is.
            this.reset()
            this.inc(labels, spec.read(read()) ?? 0)
          },
        }),
      )
    }
    add(
      `${prefix}refusals_total`,
      new Counter({
        name: `${prefix}refusals_total`,
        help: 'Stream requests refused by the hub, by reason.',
        labelNames: [...constant, 'reason'],
        registers: [],
        collect() {
          const refused = read().refused
          this.reset()
          for (const reason of REQUEST_REFUSALS) this.inc({ ...labels, reason }, refusedHere[reason] ?? 0)
          for (const [reason, field] of REFUSALS) this.inc({ ...labels, reason }, refused[field] ?? 0)
        },
      }),
    )
    add(
      `${prefix}history_events`,
      new Gauge({
        name: `${prefix}history_events`,
        help: 'Events held in replay history (each counted once, whatever its number of topics).',
        labelNames: constant,
        registers: [],
        collect() {
          this.set(labels, read().historyEvents)
        },
      }),
    )
    add(
      `${prefix}history_bytes`,
      new Gauge({
        name: `${prefix}history_bytes`,
        help: 'Bytes of the encoded events held in replay history.',
        labelNames: constant,
        registers: [],
        collect() {
          this.set(labels, read().historyBytes)
        },
      }),
    )
    let latency: ((seconds: number) => void) | undefined
    if (buckets) {
      const histogram = new Histogram({
        name: `${prefix}delivery_latency_seconds`,
        help: 'Time from publish to the write of an event frame to a subscriber\u2019s connection.',
        labelNames: constant,
        buckets: [...buckets],
        registers: [],
      })
      add(`${prefix}delivery_latency_seconds`, histogram)
      // Without constant labels, the unlabelled observe: no label hashing per event.
      const bound = constant.length > 0 ? histogram.labels(labels) : histogram
      latency = (seconds) => bound.observe(seconds)
    }
    const observeLatency = latency
    const observer = {
      ...(observeLatency && { delivery: (ms: number) => observeLatency(ms / 1000) }),
      refusal(reason: RefusalReason) {
        if (reason in refusedHere) refusedHere[reason]!++
      },
    }
    try {
      detach = observeHub(hub, observer)
    } catch (error) {
      // A Hub of your own (a wrapper, say) has metrics() but no observer: latency and request refusals stay 0.
      if (!(error instanceof HeraldConfigError && error.option === 'hub')) throw error
    }
  }
}
