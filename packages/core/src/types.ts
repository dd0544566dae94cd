// The contract between the core, the adapters and the stores. Implementations live beside it:
// sink/ (node and web sinks), hub/ (topics, fan-out, history, heartbeat, policies), http/ (request admission).
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

/** One event as retained by history stores. `bytes` is the encoded frame, shared by every subscriber. */
export interface StoredEvent {
  /** Hub-assigned sequence number, strictly increasing within one epoch. */
  seq: number
  topics: readonly string[]
  bytes: Uint8Array
  /** Milliseconds since the Unix epoch at publish time. */
  time: number
}

/** What a store answers to a Last-Event-ID lookup. */
export type ReplayResult =
  | { kind: 'events'; events: StoredEvent[] }
  /** The id is older than what is retained on one of the topics, or unknown: events may be missing. */
  | { kind: 'reset' }

/** Pluggable history. The in-memory store is the default; `@herald/sse-redis` brings a durable one. */
export interface HistoryStore {
  append(event: StoredEvent): void | Promise<void>
  /** Events on any of `topics` with `seq > afterSeq`, in order and without duplicates. */
  since(topics: readonly string[], afterSeq: number): ReplayResult | Promise<ReplayResult>
  close?(): void | Promise<void>
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
  /** Retained history per topic, or false for none. Defaults: 1000 events, 5 minutes. */
  history?: false | { maxEvents?: number; maxAgeMs?: number }
  /** Replaces the in-memory history (and ignores `history` bounds). */
  store?: HistoryStore
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
  /** Most subscribers per client key (default key: remote address); past it, 429. Default unlimited. */
  maxSubscribersPerClient?: number
  /** Identifies this hub's id space; ids from another epoch get a reset. Default: random per process. */
  epoch?: string
  onSubscribe?(subscription: Subscription): void
  onUnsubscribe?(subscription: Subscription, reason: CloseReason): void
  /**
   * Receives errors the hub cannot throw to a caller: a hook that threw, a store that failed a lookup
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
}

export interface CloseOptions {
  /** A last event sent to every subscriber before the stream ends, e.g. `{ event: 'shutdown' }`. */
  event?: PublishMessage
  /** A `retry:` hint sent before ending, so clients come back (to another instance) after this delay. */
  retryMs?: number
}

export interface Hub {
  /** Encodes once and fans out to every subscriber of any of `topics`. Returns the id it assigned. */
  publish(topics: string | readonly string[], message: PublishMessage): string
  /** Registers a subscriber. Throws `HeraldLimitError` (over a limit) or `HeraldClosedError`. */
  subscribe(options: SubscribeOptions): Subscription
  /** Subscribers on `topic`, or on the whole hub without an argument. */
  subscriberCount(topic?: string): number
  metrics(): HubMetrics
  /** Ends every stream (after `options.event` / `retryMs`) and refuses new subscribers. */
  close(options?: CloseOptions): Promise<void>
  readonly closed: boolean
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

/** The outcome of `admitStream`: either what to subscribe with, or the HTTP refusal to send. */
export type Admission =
  | {
      ok: true
      topics: string[]
      lastEventId?: string
      clientKey?: string
      /** The response headers: the SSE set plus `StreamOptions.headers`. */
      headers: Record<string, string>
    }
  | { ok: false; status: number; headers: Record<string, string>; body: string }

/** A refusal an `authorize` callback can give instead of `false` (which means 403). */
export interface AuthorizeRefusal {
  status: 401 | 403
  reason?: string
}

/**
 * What every adapter accepts: how to read topics, authorization and the client key from its request.
 * `Req` is the framework's request (Express `req`, Koa `ctx`, Hono `c`, h3 `event`).
 */
export interface StreamOptions<Req> {
  /** Topics to subscribe to. Default: every `topic` query parameter (400 when there is none). */
  topics?: (req: Req) => readonly string[] | Promise<readonly string[]>
  /** Return false (403) or `{ status: 401 }` to refuse before any stream starts. */
  authorize?: (req: Req) => boolean | AuthorizeRefusal | Promise<boolean | AuthorizeRefusal>
  /** Key for `maxSubscribersPerClient`. Default: the remote address. */
  clientKey?: (req: Req) => string | undefined
  /** Extra response headers (CORS and the like). The SSE headers cannot be overridden. */
  headers?: Record<string, string>
}

/** What an adapter extracts from its framework's request, framework-free. */
export interface RequestInfo {
  /** The request URL (at least path and query; the origin does not matter). */
  url: URL
  /** The raw `Last-Event-ID` header as the framework gives it (Node: latin1-decoded), if any. */
  lastEventId: string | null | undefined
  remoteAddress: string | undefined
  /**
   * The request method. `HEAD` is answered with the stream's status and headers and no body, without
   * subscribing. `serveNode` falls back to the Node request's method when this is left out.
   */
  method?: string
}
