// The contract between the core and the adapters. Implementations live beside it: sink/ (node and web
// sinks), hub/ (topics, fan-out, heartbeat, policies), broker/ (ids, history, other processes),
// http/ (request admission).
import type { Broker } from './broker/types.js'
import type { SseMessage } from './protocol/encode.js'

/**
 * Where a subscriber's bytes go. The hub writes encoded frames here and never awaits it.
 * Implementations: the Node sink (`@herald/sse-core/node`, an `http.ServerResponse`) and the Web sink
 * (`createWebSink`, a `ReadableStream<Uint8Array>`).
 */
export interface Sink {
  /** Writes bytes. Returns false when the transport is full: stop and wait for `onDrain`. */
  write(chunk: Uint8Array): boolean
  /** Bytes accepted by `write` but not yet taken by the peer (`writableLength`, or the stream's queue). */
  readonly pending: number
  /** True once the peer went away or `end()` ran. Writes after that are ignored. */
  readonly closed: boolean
  /** Called (once per full → not full transition) when the transport can take more. */
  onDrain(listener: () => void): void
  /** Called exactly once when the peer goes away or the sink is ended. */
  onClose(listener: () => void): void
  /** Ends the stream after what was written. */
  end(): void
  /** Tears the stream down at once, dropping unsent bytes (a peer that takes nothing). Falls back to `end`. */
  abort?(): void
}

/** What a producer publishes. The hub assigns `id`; `key` groups events for the `latest` policy. */
export interface PublishMessage extends Omit<SseMessage, 'id'> {
  /** For the `latest` slow-consumer policy: only the newest queued event per key is kept (default: topic). */
  key?: string
}

/** What happens when a publish would push a subscriber past its byte budget. */
export type SlowConsumerPolicy = 'disconnect' | 'drop-oldest' | 'latest'

/** Why a subscription ended. */
export type CloseReason = 'client-gone' | 'slow-consumer' | 'drain-timeout' | 'hub-closed' | 'unsubscribed'

/**
 * What `publish` does while the broker is unavailable: `reject` (with `HeraldBrokerError`, the default),
 * or `local`: deliver to this process's subscribers only, without an id and without history.
 */
export type BrokerOutagePolicy = 'reject' | 'local'

/** Bounds of the in-memory history. */
export interface HistoryOptions {
  /** Events kept per topic. Default 1000. */
  maxEvents?: number
  /** Events older than this (ms) are forgotten, on a timer. Default 5 minutes; `Infinity` keeps them. */
  maxAgeMs?: number
  /** Bytes of encoded events kept across all topics; past it the oldest go first. Default 64 MiB. */
  maxBytes?: number
}

export interface HubOptions {
  /** Bytes one subscriber may hold unsent (its queue plus the sink's pending bytes). Default 1 MiB. */
  budgetBytes?: number
  /** Outcome when the budget would be exceeded. Default `disconnect`. */
  slowConsumer?: SlowConsumerPolicy
  /** With `disconnect`: send a final `event: slow-consumer` before ending. Default true. */
  slowConsumerEvent?: boolean
  /** A subscriber whose sink takes nothing for this long is disconnected. Default 10 000 ms. */
  drainTimeoutMs?: number
  /** Event name sent (before the next event) after `drop-oldest` dropped events. Default `gap`. */
  gapEvent?: string
  /**
   * Assigns ids, keeps history and carries events between processes. Default: `createMemoryBroker()`
   * with this hub's `history` and `epoch` (which must not be set with another broker).
   */
  broker?: Broker
  /** What `publish` does while the broker is unavailable. Default `reject`. */
  brokerOutage?: BrokerOutagePolicy
  /**
   * History of the default memory broker, or false for none. Defaults: 1000 events per topic,
   * 5 minutes, 64 MiB in all.
   */
  history?: false | HistoryOptions
  /** Event name sent when a Last-Event-ID cannot be replayed exactly. Default `reset`. */
  resetEvent?: string
  /** Idle interval after which a `:` comment is sent. 0 disables. Default 15 000 ms. */
  heartbeatMs?: number
  /** `retry:` hint (ms) sent on connect. Default none. */
  retryMs?: number
  /** Send an event of this name (data: the subscriber id) right after subscribing. Default none. */
  connectedEvent?: string
  /** Most subscribers on this hub; past it, connects are refused with 503. Default unlimited. */
  maxSubscribers?: number
  /**
   * Most subscribers per client key (default key: the remote address); past it, 429. Default 256.
   * Behind a proxy every client has the proxy's address: pass the real one as `clientKey`, or raise this.
   */
  maxSubscribersPerClient?: number
  /** Most topics one stream may subscribe to; past it, 400. Default 64. */
  maxTopicsPerStream?: number
  /** Longest topic name (UTF-16 code units); past it, 400. Default 256. */
  maxTopicLength?: number
  /**
   * Topic names must match this as well (e.g. `/^[\w:.-]+$/`); others get 400. Default: any name without
   * control characters (U+0000 to U+001F, U+007F are always refused).
   */
  topicPattern?: RegExp
  /** Largest encoded event `publish` accepts, in bytes; a larger one throws `HeraldEncodingError`. Default 1 MiB. */
  maxEventBytes?: number
  /** The default memory broker's id space; ids from another epoch get a reset. Default: random per process. */
  epoch?: string
  onSubscribe?(subscription: Subscription): void
  onUnsubscribe?(subscription: Subscription, reason: CloseReason): void
  /**
   * Receives errors the hub cannot throw to a caller: a hook that threw, a broker that failed a lookup
   * (the subscriber then gets a reset). Default: rethrown asynchronously, like an unhandled error.
   */
  onError?(error: unknown): void
}

export interface SubscribeOptions {
  sink: Sink
  topics: readonly string[]
  /** The client's Last-Event-ID (header or `lastEventId` query), already decoded. Garbage is "unknown". */
  lastEventId?: string | null
  /** For `maxSubscribersPerClient`; adapters pass the remote address unless told otherwise. */
  clientKey?: string
}

export interface Subscription {
  readonly id: string
  readonly topics: readonly string[]
  readonly clientKey: string | undefined
  /** Resolves when the subscription ends, with the reason. */
  readonly closed: Promise<CloseReason>
  /** Ends this subscription and its stream. */
  close(): void
}

export interface HubMetrics {
  subscribers: number
  published: number
  /** Frames written to sinks (events, not heartbeats). */
  delivered: number
  deliveredBytes: number
  heartbeats: number
  replayed: number
  resets: number
  dropped: number
  gaps: number
  coalesced: number
  slowConsumerDisconnects: number
  drainTimeouts: number
  refused: { limit: number; clientLimit: number; closed: number }
  /** Events the history holds in this process (each once), from the broker's `usage()`; 0 without it. */
  historyEvents: number
  /** Bytes of those events' frames. */
  historyBytes: number
}

/** The input rules a hub enforces, resolved from its options, for code that checks before calling it. */
export interface HubRules {
  maxTopicsPerStream: number
  maxTopicLength: number
  topicPattern: RegExp | undefined
  maxEventBytes: number
  /**
   * Event names the hub sends itself (the reset, gap and slow-consumer notices and the connected event):
   * `publishFromBody` refuses them, so a publisher cannot fake a notice the client acts on.
   */
  controlEvents: readonly string[]
}

export interface CloseOptions {
  /** A last event sent to every subscriber before the stream ends, e.g. `{ event: 'shutdown' }`. */
  event?: PublishMessage
  /** A `retry:` hint sent before ending, so clients come back (to another instance) after this delay. */
  retryMs?: number
}

export interface Hub {
  /**
   * Encodes once, has the broker assign the id and append to history, and fans out to every subscriber
   * of any of `topics`. Resolves the id. Async because a shared broker (Redis) assigns ids remotely; the
   * memory broker delivers before the promise resolves. Bad input throws synchronously (no promise);
   * a broker outage rejects with `HeraldBrokerError` (or, with `brokerOutage: 'local'`, resolves `''`
   * after delivering locally only).
   */
  publish(topics: string | readonly string[], message: PublishMessage): Promise<string>
  /** Registers a subscriber. Throws `HeraldLimitError` (over a limit) or `HeraldClosedError`. */
  subscribe(options: SubscribeOptions): Subscription
  /** Subscribers on `topic`, or on the whole hub without an argument. */
  subscriberCount(topic?: string): number
  metrics(): HubMetrics
  /** Ends every stream (after `options.event` / `retryMs`) and refuses new subscribers. */
  close(options?: CloseOptions): Promise<void>
  readonly closed: boolean
  /** The input rules this hub enforces (topic names and counts, event size, its own event names). */
  readonly rules: HubRules
  /**
   * Whether a subscriber with this client key would be admitted now, without subscribing.
   * Adapters call it before starting a response so they can refuse with a status. Refusals are counted.
   */
  checkAdmission(clientKey?: string): AdmissionRefusal | null
}

/** Why the hub refuses a new subscriber; `status` and `retryAfterSeconds` map to the HTTP answer. */
export interface AdmissionRefusal {
  status: 429 | 503
  code: 'ERR_HERALD_TOO_MANY_SUBSCRIBERS' | 'ERR_HERALD_CLIENT_LIMIT' | 'ERR_HERALD_CLOSED'
  /** A short plain-text reason, safe to send to the client. */
  reason: string
  retryAfterSeconds: number
}

/** A refusal an `authorize` callback can give instead of `false` (which means 403). */
export interface AuthorizeRefusal {
  status: 401 | 403
  reason?: string
}

/** What `authorize` is asked about: the topics requested (checked and deduplicated) and the Last-Event-ID. */
export interface AuthorizeRequest {
  topics: readonly string[]
  lastEventId?: string
}

/**
 * What `authorize` answers: `true` (admit), `false` (403), a refusal (401 or 403 with a reason), or
 * `{ topics }`: admit on that subset of the requested topics only (an empty subset is 403).
 */
export type AuthorizeVerdict = boolean | AuthorizeRefusal | { topics: readonly string[] }

/**
 * What every adapter accepts: how to read topics, authorization and the client key from its request.
 * `Req` is the framework's request (Express `req`, Koa `ctx`, Hono `c`, h3 `event`).
 */
export interface StreamOptions<Req> {
  /** Topics to subscribe to. Default: every `topic` query parameter (400 when there is none). */
  topics?: (req: Req) => readonly string[] | Promise<readonly string[]>
  /**
   * Runs after the topics are read and checked: return false (403) or `{ status: 401 }` to refuse before
   * any stream starts, or `{ topics }` to admit on a subset of `request.topics`.
   */
  authorize?: (req: Req, request: AuthorizeRequest) => AuthorizeVerdict | Promise<AuthorizeVerdict>
  /** Key for `maxSubscribersPerClient`. Default: the remote address. */
  clientKey?: (req: Req) => string | undefined
  /** Extra response headers (CORS and the like). The SSE headers cannot be overridden. */
  headers?: Record<string, string>
}

/** What an adapter extracts from its framework's request, framework-free. */
export interface RequestInfo {
  /**
   * The request URL: a `URL`, or the request target as the server received it (`req.url`,
   * `req.originalUrl`; a path with its query, or an absolute URL). The core parses a string itself and
   * answers 400 to one that cannot be parsed; the origin does not matter.
   */
  url: URL | string
  /** The raw `Last-Event-ID` header as the framework gives it (Node: latin1-decoded), if any. */
  lastEventId: string | null | undefined
  remoteAddress: string | undefined
  /**
   * The request method. `HEAD` is answered with the stream's status and headers and no body, without
   * subscribing. `serveNode` falls back to the Node request's method when this is left out.
   */
  method?: string
}
