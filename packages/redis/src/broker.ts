import { HeraldClosedError, HeraldConfigError } from '@herald/sse-core'
import { createClient, RESP_TYPES, type RedisClientType } from '@redis/client'
import { type Keys, namespaceKeys, parseId } from './keys.js'
import { loadScript } from './script-cache.js'
import { PUBLISH_SCRIPT, REPLAY_SCRIPT, USAGE_SCRIPT } from './scripts.js'
import {
  type Broker,
  type BrokerEntry,
  type BrokerListener,
  type BrokerPublish,
  type BrokerReplay,
  type BrokerResetReason,
  frameWithId,
  HeraldBrokerError,
} from './seam.js'

/** A node-redis client (`createClient()` from `redis` or `@redis/client`), whatever its modules and scripts. */
// biome-ignore lint/suspicious/noExplicitAny: any client type parameters are fine; only core commands are used
export type RedisClient = RedisClientType<any, any, any, any, any>

/** Where the broker writes its one line per outage (pino, console or anything with these methods). */
export interface RedisBrokerLogger {
  warn(obj: object, msg: string): void
  info(obj: object, msg: string): void
}

export interface RedisBrokerOptions {
  /** `redis://[[user]:password@]host[:port][/db]` (or `rediss://`). Required unless `client` is given. */
  url?: string
  /**
   * A node-redis client to use instead of `url` (connected or not). The broker opens one more connection
   * with `client.duplicate()` for Pub/Sub, and closes only what it opened itself.
   */
  client?: RedisClient
  /** Prefix and hash tag of every key and channel. Hubs that share it share topics and ids. Default `herald`. */
  namespace?: string
  /** History kept in Redis per topic: `maxEvents` (default 1000, trimmed with `MAXLEN ~`) and `maxAgeMs` (default 5 minutes; `Infinity` keeps events until trimmed by count). */
  history?: { maxEvents?: number; maxAgeMs?: number }
  /** `Retry-After` (seconds) carried by `HeraldBrokerError` while Redis is unreachable. Default 5. */
  retryAfterSeconds?: number
  /** Receives one warning when an outage starts and one info line when Redis is back. Default: console. */
  logger?: RedisBrokerLogger
  /**
   * How long (ms) a publish, a replay, a subscription or the first connection's handshake waits for
   * Redis's answer. Default 5000. A Redis that
   * accepts connections but stops answering (frozen, stalled, a network black hole) is an outage after this:
   * the command fails with `HeraldBrokerError`, the listener hears of the outage, and once Redis answers
   * again the watched topics get the gap event.
   */
  commandTimeoutMs?: number
  /**
   * `usage()` (`hub.metrics().historyEvents`/`historyBytes`) returns figures read from Redis at most this
   * many ms ago; a read of older figures starts a refresh in the background. Default 5000.
   */
  usageRefreshMs?: number
}

/** The Redis broker: pass it to `createHub({ broker })`. */
export interface RedisBroker extends Broker {
  /**
   * Subscribes this process to `topic` (batched with the other watches of this task). Resolves when Redis
   * has acknowledged the subscription: from then on every event published on the topic reaches this
   * process. Never rejects (a failure is an outage, reported to the listener).
   */
  watch(topic: string): Promise<void>
  /** Resolves once both connections are up the first time; rejects if the first attempt fails. */
  ready(): Promise<void>
  /** The namespace, as given. */
  readonly namespace: string
}

const SUBSCRIBED = Promise.resolve()

/** How many topics published to (without local subscribers) `usage()` keeps counting. */
const MAX_REMEMBERED = 1000

const BUFFERS = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const

const consoleLogger: RedisBrokerLogger = {
  warn: (obj, msg) => console.warn(`@herald/sse-redis: ${msg}`, obj),
  info: (obj, msg) => console.info(`@herald/sse-redis: ${msg}`, obj),
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new HeraldConfigError(name, `must be a positive integer, got ${String(value)}`)
  }
  return value
}

function randomEpoch(): string {
  const rand = Math.floor(Math.random() * 36 ** 8)
    .toString(36)
    .padStart(8, '0')
  return `${Date.now().toString(36)}${rand}`
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** An event as read from the bus or a stream, before it becomes a `BrokerEntry`. */
interface LiveEvent {
  epoch: string
  seq: number
  time: number
  topics: readonly string[]
  key: string | undefined
  body: Uint8Array
}

/**
 * Reads a live message: `<epoch> <seq> <ms> <n> <key bytes or -1>\n`, n topic lines, the key, the body.
 * Runs once per event per process. Buffer's own decoding (the header is ASCII) costs about half what a
 * TextDecoder does on strings this short; the body stays a view of the message (the frame copies it once).
 */
function parseLiveMessage(message: Buffer): LiveEvent | undefined {
  let end = message.indexOf(10)
  if (end < 0) return
  const [epoch, seq, time, count, keyLength] = message.toString('latin1', 0, end).split(' ')
  const n = Number(count)
  const k = Number(keyLength)
  if (!epoch || !Number.isInteger(n) || n < 1 || !Number.isInteger(k)) return
  const topics: string[] = []
  for (let i = 0; i < n; i++) {
    const start = end + 1
    end = message.indexOf(10, start)
    if (end < 0) return
    topics.push(message.toString('utf8', start, end))
  }
  const keyEnd = end + 1 + Math.max(0, k)
  const key = k < 0 ? undefined : message.toString('utf8', end + 1, keyEnd)
  return { epoch, seq: Number(seq), time: Number(time), topics, key, body: message.subarray(keyEnd) }
}

/**
 * Creates a broker that shares a hub's topics, ids and history across every process that uses the same
 * Redis and namespace. Each event is appended to a Redis Stream per topic and published on a channel per
 * topic by one Lua script (atomic; the message carries the event's id); a process subscribes only to the
 * channels of topics it has subscribers for. Ids are `<epoch>-<seq>`, one sequence per namespace.
 *
 * @example
 * const hub = createHub({ broker: createRedisBroker({ url: process.env.REDIS_URL, namespace: 'app' }) })
 */
export function createRedisBroker(options: RedisBrokerOptions): RedisBroker {
  if (options === null || typeof options !== 'object') {
    throw new HeraldConfigError('options', 'must be an object with url or client')
  }
  const { url, client: given } = options
  if (given === undefined && typeof url !== 'string') {
    throw new HeraldConfigError('url', 'must be a redis:// URL string (or pass client)')
  }
  if (given !== undefined && url !== undefined) {
    throw new HeraldConfigError('url', 'give url or client, not both')
  }
  const namespace = options.namespace ?? 'herald'
  const keys: Keys = namespaceKeys(namespace)
  const history = options.history ?? {}
  if (history === null || typeof history !== 'object') {
    throw new HeraldConfigError('history', 'must be an object')
  }
  const maxEvents = positiveInteger('history.maxEvents', history.maxEvents, 1000)
  const maxAgeMs =
    history.maxAgeMs === Number.POSITIVE_INFINITY
      ? 0
      : positiveInteger('history.maxAgeMs', history.maxAgeMs, 300_000)
  const retryAfter = positiveInteger('retryAfterSeconds', options.retryAfterSeconds, 5)
  const logger = options.logger ?? consoleLogger
  const commandTimeoutMs = positiveInteger('commandTimeoutMs', options.commandTimeoutMs, 5000)
  const usageRefreshMs = positiveInteger('usageRefreshMs', options.usageRefreshMs, 5000)

  // Commands: publishes are written as they come (node-redis pipelines whatever is issued before a reply
  // arrives), so a burst of publishes costs one round trip, not one each.
  const cmd: RedisClient = given ?? (createClient({ url, disableOfflineQueue: true }) as RedisClient)
  // Pub/Sub needs its own connection. Its SUBSCRIBEs wait out an outage, and node-redis resubscribes on reconnect.
  const sub: RedisClient = cmd.duplicate({ disableOfflineQueue: false })
  const publishScript = loadScript(PUBLISH_SCRIPT)
  const replayScript = loadScript(REPLAY_SCRIPT)
  const usageScript = loadScript(USAGE_SCRIPT)

  let listener: BrokerListener | undefined
  let closed = false
  let everReady = false
  /** The error that started the current outage, or null while Redis answers. */
  let down: Error | null = null
  /** Channels subscribed (or being subscribed) and the batch waiting for the next flush. */
  const watched = new Set<string>()
  const toWatch = new Set<string>()
  const toUnwatch = new Set<string>()
  let flushScheduled = false
  /** The newest event delivered: the same event on several watched topics arrives once per channel. */
  let lastEpoch = ''
  let lastSeq = 0
  /** Topics this process published to lately (oldest first, bounded): usage() counts them with the watched. */
  const published = new Set<string>()
  let usage = { events: 0, bytes: 0 }
  let usageAt = Number.NEGATIVE_INFINITY
  let usageRefreshing = false

  let resolveFirst!: () => void
  let rejectFirst!: (error: Error) => void
  const first = new Promise<void>((resolve, reject) => {
    resolveFirst = resolve
    rejectFirst = reject
  })
  first.catch(() => {}) // observed through ready() and publish; never an unhandled rejection

  function unavailable(cause: unknown): HeraldBrokerError {
    const reason = cause instanceof Error ? cause.message : String(cause)
    return new HeraldBrokerError(`Redis is unavailable: ${reason}`, retryAfter, { cause })
  }

  function onError(error: Error): void {
    if (closed || down) return
    down = error
    logger.warn({ namespace, err: error.message }, 'Redis unavailable; publishes fail until it is back')
    if (!everReady) rejectFirst(unavailable(error))
    for (const resolve of unsettled) resolve()
    unsettled.clear()
    acks.clear()
    listener?.outage(error)
  }

  /**
   * Redis did not answer in time. The connection is still open, so no reconnect will say when it is back:
   * a PING queued behind the stuck commands does (it resolves once Redis answers them all again).
   */
  function onSilence(error: Error): void {
    if (closed || down) return
    onError(error)
    cmd.sendCommand(['PING']).then(
      () => {
        if (down === error) back()
      },
      () => {}, // the connection dropped meanwhile: the reconnect (onReady) ends the outage
    )
  }

  /** Rejects when Redis has not answered within commandTimeoutMs, and treats the silence as an outage. */
  function answered<T>(promise: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new Error(`no answer to ${what} within ${commandTimeoutMs} ms`)
        reject(error)
        onSilence(error)
      }, commandTimeoutMs)
      promise.then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })
  }

  function onReady(): void {
    if (closed || !cmd.isReady || !sub.isReady) return
    if (!everReady) {
      everReady = true
      clearTimeout(handshake)
      resolveFirst()
    }
    if (down) back()
  }

  function back(): void {
    down = null
    logger.info({ namespace }, 'Redis is back; topics resubscribed')
    listener?.outage(null)
    // Events published while this process was cut off never reached its subscribers: tell them.
    if (watched.size > 0) listener?.gap([...watched])
  }

  const onEnd = () => onError(new Error('connection closed'))
  for (const client of [cmd, sub]) {
    client.on('error', onError)
    client.on('ready', onReady)
    client.on('end', onEnd)
  }
  const opened: RedisClient[] = []
  for (const client of given ? [sub] : [cmd, sub]) opened.push(client)
  if (given && !given.isOpen) opened.push(given)
  for (const client of opened) client.connect().catch(onError)
  // A Redis that accepts the connection but never answers its handshake is an outage too (publishes made
  // before the first connection wait for it).
  const handshake = setTimeout(() => {
    if (!everReady)
      onSilence(new Error(`no answer to the connection handshake within ${commandTimeoutMs} ms`))
  }, commandTimeoutMs)
  handshake.unref()

  function onMessage(message: Buffer): void {
    const event = parseLiveMessage(message)
    if (!event) return
    if (event.epoch === lastEpoch && event.seq <= lastSeq) return
    lastEpoch = event.epoch
    lastSeq = event.seq
    const id = `${event.epoch}-${event.seq}`
    listener?.deliver(toEntry(id, event))
  }

  /** The SUBSCRIBE of this task's watches: resolves when Redis acknowledged it (or it failed: an outage). */
  let batch: { promise: Promise<void>; resolve: () => void } | undefined
  /** Topics whose SUBSCRIBE is not acknowledged yet, and the promise that says when it is. */
  const acks = new Map<string, Promise<void>>()
  /** Resolvers of batches not yet acknowledged: an outage settles them (nobody waits out an outage). */
  const unsettled = new Set<() => void>()

  function flushWatches(): void {
    flushScheduled = false
    const current = batch
    batch = undefined
    if (closed) {
      current?.resolve()
      return
    }
    if (toUnwatch.size > 0) {
      const channels = [...toUnwatch].map((t) => keys.live + t)
      toUnwatch.clear()
      sub.UNSUBSCRIBE(channels, onMessage, true).catch(onError)
    }
    if (toWatch.size > 0) {
      const channels = [...toWatch].map((t) => keys.live + t)
      toWatch.clear()
      const topics = [...toWatch]
      toWatch.clear()
      // A SUBSCRIBE that gets no answer is an outage (the hub holds these topics' new subscribers until it settles).
      const subscribed = sub.SUBSCRIBE(channels, onMessage, true)
      ;(down ? subscribed : answered(subscribed, 'SUBSCRIBE')).catch(onError).finally(() => {
        for (const t of topics) if (acks.get(t) === current?.promise) acks.delete(t)
        if (current) {
          unsettled.delete(current.resolve)
          current.resolve()
        }
      })
    } else current?.resolve()
  }

  function scheduleFlush(): void {
    if (flushScheduled) return
    flushScheduled = true
    // Every watch and unwatch of this task go out as one SUBSCRIBE and one UNSUBSCRIBE.
    queueMicrotask(flushWatches)
  }

  function run(
    script: ReturnType<typeof loadScript>,
    args: (string | Buffer)[],
    keyCount: number,
    what: string,
  ) {
    return answered(script.run(cmd, keyCount, args, BUFFERS), what)
  }

  function remember(topics: readonly string[]): void {
    for (const t of topics) {
      if (published.has(t)) continue
      published.add(t)
      if (published.size > MAX_REMEMBERED) published.delete(published.values().next().value as string)
    }
  }

  /** Reads XLEN and MEMORY USAGE of the known topics' streams in one script; keeps the last figures on failure. */
  function refreshUsage(): void {
    usageRefreshing = true
    usageAt = Date.now()
    const topics = [...new Set([...watched, ...published])]
    if (topics.length === 0) {
      usage = { events: 0, bytes: 0 }
      usageRefreshing = false
      return
    }
    run(usageScript, topics.map(keys.stream), topics.length, 'the usage read')
      .then((reply) => {
        const [events, bytes, lengths] = reply as [number, number, number[]]
        usage = { events, bytes }
        // A topic published to once, whose history has expired, is forgotten.
        topics.forEach((t, i) => {
          if (lengths[i] === 0) published.delete(t)
        })
      })
      .catch(() => {}) // an outage: it is reported by the listener, and the figures stay as they were
      .finally(() => {
        usageRefreshing = false
      })
  }

  function send(event: BrokerPublish): Promise<BrokerEntry> {
    const topics = event.topics
    const args: (string | Buffer)[] = [keys.meta, keys.clock]
    for (const t of topics) args.push(keys.stream(t))
    const { key } = event
    args.push(randomEpoch(), String(maxEvents), String(maxAgeMs), asBuffer(event.body), keys.live)
    args.push(key ?? '', key === undefined ? '0' : '1', ...topics)
    remember(topics)
    return run(publishScript, args, 2 + topics.length, 'a publish').then(
      (reply) => {
        const [epoch, seq, time] = reply as [Buffer, number, number]
        const id = `${epoch.toString()}-${seq}`
        const entry: BrokerEntry = { id, topics, frame: frameWithId(id, event.body), time }
        if (key !== undefined) entry.key = key
        return entry
      },
      (error: unknown) => {
        throw unavailable(error)
      },
    )
  }

  /**
   * Ends a connection we opened. close() waits for every pending reply: during an outage (commands queued
   * for a connection that is not there) or with a frozen Redis that is forever, so those are cut off.
   */
  async function end(client: RedisClient): Promise<void> {
    if (!client.isOpen) return
    if (!client.isReady) return client.destroy()
    let timer: ReturnType<typeof setTimeout> | undefined
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, commandTimeoutMs)
    })
    await Promise.race([client.close().catch(() => {}), waited])
    clearTimeout(timer)
    if (client.isOpen) client.destroy()
  }

  const broker: RedisBroker = {
    namespace,

    ready: () => first,

    attach(l) {
      listener = l
    },

    publish(event) {
      if (closed)
        return Promise.reject(new HeraldClosedError('Cannot publish: the broker is closed', retryAfter))
      if (cmd.isReady && !down) return send(event)
      if (down || everReady) return Promise.reject(unavailable(down ?? 'reconnecting'))
      return first.then(() => send(event))
    },

    watch(topic) {
      if (watched.has(topic)) return acks.get(topic) ?? SUBSCRIBED
      watched.add(topic)
      // Unwatched and watched again in one task: still subscribed, nothing to send.
      if (toUnwatch.delete(topic)) return acks.get(topic) ?? SUBSCRIBED
      toWatch.add(topic)
      scheduleFlush()
      // During an outage the SUBSCRIBE waits for Redis; the hub must not hold the subscriber that long
      // (it gets the gap event once Redis is back).
      if (down) return SUBSCRIBED
      if (!batch) {
        let resolve!: () => void
        batch = { promise: new Promise<void>((r) => (resolve = r)), resolve }
        unsettled.add(batch.resolve)
      }
      acks.set(topic, batch.promise)
      return batch.promise
    },

    unwatch(topic) {
      if (!watched.delete(topic)) return
      if (toWatch.delete(topic)) {
        acks.delete(topic)
        return
      }
      toUnwatch.add(topic)
      scheduleFlush()
    },

    async replay(topics, lastEventId): Promise<BrokerReplay> {
      const parsed = parseId(lastEventId)
      if (!parsed) return { kind: 'reset', reason: 'unknown-id' }
      // A topic first watched for this subscriber: read its history only once Redis acknowledged the
      // SUBSCRIBE, so each event is either in what is read or arrives live (the hub joins the two).
      const pending = topics.map((t) => acks.get(t)).filter((p) => p !== undefined)
      if (pending.length > 0) await Promise.all(pending)
      if (down || !cmd.isReady) return { kind: 'reset', reason: 'outage' }
      const args: string[] = [keys.meta, keys.clock]
      for (const t of topics) args.push(keys.stream(t))
      args.push(parsed.epoch, String(parsed.seq), String(maxAgeMs))
      let reply: unknown[]
      try {
        reply = (await run(replayScript, args, 2 + topics.length, 'a replay')) as unknown[]
      } catch {
        return { kind: 'reset', reason: 'outage' }
      }
      if (String(reply[0]) === 'reset') {
        const reset: BrokerReplay = { kind: 'reset', reason: String(reply[1]) as BrokerResetReason }
        if (reply[2] !== undefined) reset.id = String(reply[2])
        return reset
      }
      const epoch = String(reply[1])
      return { kind: 'events', entries: mergeEntries(epoch, topics, reply.slice(2) as RawEntry[][]) }
    },

    usage() {
      if (!usageRefreshing && !closed && !down && cmd.isReady && Date.now() - usageAt >= usageRefreshMs) {
        refreshUsage()
      }
      return { ...usage }
    },

    compare(a, b) {
      const x = parseId(a)
      const y = parseId(b)
      if (!x || !y || x.epoch !== y.epoch) return undefined
      return x.seq - y.seq
    },

    async close() {
      if (closed) return
      closed = true
      clearTimeout(handshake)
      // Closing is not an outage: nothing is logged for the connections we end, and a client we were
      // given keeps no listener of ours.
      if (given) {
        given.off('error', onError)
        given.off('ready', onReady)
        given.off('end', onEnd)
      }
      const ours = given ? [sub] : [cmd, sub]
      await Promise.all(ours.map(end))
    },
  }
  return broker
}

/** A stream entry as Redis returns it: `[id, [field, value, ...]]`. */
type RawEntry = [Buffer, Buffer[]]

/** Stream entries of `topic` as events (the `tp` field lists the topics of an event on several). */
function streamEvents(epoch: string, topic: string, entries: RawEntry[]): LiveEvent[] {
  const events: LiveEvent[] = []
  for (const [rawId, fields] of entries) {
    const event: LiveEvent = {
      epoch,
      seq: Number.parseInt(rawId.toString(), 10),
      time: 0,
      topics: [topic],
      key: undefined,
      body: new Uint8Array(0),
    }
    for (let f = 0; f < fields.length; f += 2) {
      const name = fields[f]!.toString()
      const value = fields[f + 1]!
      if (name === 'ts') event.time = Number(value.toString())
      else if (name === 'b') event.body = value
      else if (name === 'tp') event.topics = value.toString().split('\n')
      else if (name === 'k') event.key = value.toString()
    }
    events.push(event)
  }
  return events
}

function toEntry(id: string, event: LiveEvent): BrokerEntry {
  const entry: BrokerEntry = {
    id,
    topics: event.topics,
    frame: frameWithId(id, event.body),
    time: event.time,
  }
  if (event.key !== undefined) entry.key = event.key
  return entry
}

/** Merges the per-topic entries by seq, each event once, into broker entries. */
function mergeEntries(epoch: string, topics: readonly string[], perTopic: RawEntry[][]): BrokerEntry[] {
  const bySeq = new Map<number, LiveEvent>()
  for (let i = 0; i < perTopic.length; i++) {
    for (const event of streamEvents(epoch, topics[i]!, perTopic[i]!)) {
      if (!bySeq.has(event.seq)) bySeq.set(event.seq, event)
    }
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq).map((e) => toEntry(`${epoch}-${e.seq}`, e))
}
