import type { BackoffOptions } from './backoff.js'
import type { HeraldClientError } from './errors.js'

/** Event name → type of its data, for TypeScript. Names you do not list still arrive (as text). */
export type EventMap = Record<string, unknown>

/** The events a Herald hub sends on its own. Their data is text. */
export interface HeraldControlEvents {
  /** History could not serve the Last-Event-ID: the stream continues live, the app should refetch state. */
  reset: string
  /** The server dropped events for this slow client (drop-oldest); data: how many, when it says. */
  gap: string
}

/** The declared events plus Herald's control events (a declared name wins). */
export type WithControlEvents<M extends EventMap> = Omit<HeraldControlEvents, keyof M> & M

/** One event as the client delivers it. */
export interface SseEvent<Type extends string = string, Data = string> {
  /** The `event:` name; `message` when the server named none (as EventSource). */
  type: Type
  /** The data after `parse` for this name, else the text. */
  data: Data
  /** The data as sent (lines joined with `\n`). */
  text: string
  /** This event's `id:`, or undefined when it had none. */
  id: string | undefined
  /** The id the client resumes from after this event (EventSource's `lastEventId`). */
  lastEventId: string
}

/** Any event of the map `M`, as a union the `type` field narrows. */
export type ClientEvent<M extends EventMap> = {
  [K in keyof WithControlEvents<M> & string]: SseEvent<K, WithControlEvents<M>[K]>
}[keyof WithControlEvents<M> & string]

/** How to turn an event's text into its data: `'json'` (JSON.parse) or a function. */
export type DataParser<T> = 'json' | ((text: string) => T)

/** Why the client is about to reconnect, and when. */
export interface ReconnectInfo {
  /** Failed attempts in a row, this one included (1 after a stream that was delivering). */
  attempt: number
  /** The wait before the next request. */
  delayMs: number
  /** What ended the last attempt: `ERR_SSE_ENDED`, `ERR_SSE_NETWORK`, `ERR_SSE_STALLED`, a 408/429/5xx `HeraldHttpError`, … */
  reason: HeraldClientError
}

/** Options of `connect()`. Every one is optional; a bad one throws `HeraldClientConfigError` naming it. */
export interface ConnectOptions<M extends EventMap = Record<string, string>> {
  /** HTTP method. Default `GET`. */
  method?: string
  /** Request headers, or a function called before every attempt (a token that changes). */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>)
  /** Request body (not with GET), or a function returning a fresh one per attempt. Not a stream: it is sent again on reconnect. */
  body?: Exclude<BodyInit, ReadableStream> | (() => BodyInit)
  /** fetch's `credentials` (browsers: `include` sends cookies cross-origin). */
  credentials?: RequestCredentials
  /** Aborting it closes the client. */
  signal?: AbortSignal
  /** Resume from this id on the first request (sent as `Last-Event-ID`). */
  lastEventId?: string
  /** Also send the id as a query parameter: `true` → `lastEventId`, or the parameter's name. Default off. */
  lastEventIdQuery?: boolean | string
  /** Added to the URL as `topic` query parameters (Herald's convention). */
  topics?: string | readonly string[]
  /** Per event name, how to read its data: `{ progress: 'json' }`. Without one, data is the text. */
  parse?: { [K in keyof M]?: DataParser<M[K]> }
  /** Reconnection waits. */
  reconnect?: BackoffOptions
  /** Reconnect when nothing (not even a heartbeat comment) arrived for this long. Default 45 000 ms; 0 disables. */
  watchdogMs?: number
  /** How many recent event ids to remember to drop repeats after a reconnect. Default 1000; 0 disables. */
  rememberIds?: number
  /** Longest event or line, in characters, before the client stops with `ERR_SSE_EVENT_TOO_LARGE`. Default 16 Mi. */
  maxEventLength?: number
  /** Name of Herald's reset event, or false to treat it as an ordinary event. Default `reset`. */
  resetEvent?: string | false
  /** Name of Herald's gap event, or false to treat it as an ordinary event. Default `gap`. */
  gapEvent?: string | false
  /** The fetch to use. Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /** Each time a stream opens (2xx, `text/event-stream`). */
  onOpen?: (response: Response) => void
  /** Each time the connection is lost or an attempt fails, before waiting `delayMs`. */
  onReconnecting?: (info: ReconnectInfo) => void
  /** The client stopped because of `error` (a 4xx, a bad content type, a parse failure, …). */
  onError?: (error: HeraldClientError) => void
  /** The server could not resume from our id (Herald's `reset`): refetch state, events continue live. */
  onReset?: (event: SseEvent<string, string>) => void
  /** The server dropped events for us (Herald's `gap`); `dropped` is its count when the data is one. */
  onGap?: (event: SseEvent<string, string>, dropped: number | undefined) => void
  /** The server set the reconnection delay (`retry:`; Herald sends one on connect and on shutdown). */
  onRetryHint?: (ms: number) => void
}

/** `connecting` (first request, or waiting to reconnect), `open` (streaming) or `closed` (for good). */
export type ConnectionState = 'connecting' | 'open' | 'closed'

/** A live stream: an async iterator of events, an emitter by event name, and `close()`. */
export interface SseClient<M extends EventMap = Record<string, string>>
  extends AsyncIterable<ClientEvent<M>> {
  /** Calls `listener(data, event)` for every event named `type`. Returns a function that removes it. */
  on<K extends keyof WithControlEvents<M> & string>(
    type: K,
    listener: (data: WithControlEvents<M>[K], event: SseEvent<K, WithControlEvents<M>[K]>) => void,
  ): () => void
  /** Stops for good: aborts the request, cancels any wait, ends every iterator. */
  close(): void
  readonly state: ConnectionState
  /** The id the next request resumes from (`''` for none). */
  readonly lastEventId: string
  /** Resolves when the client is closed (`close()`, the signal, a 204); rejects with the error that stopped it. */
  readonly closed: Promise<void>
  /** Every event from now on. Leaving the loop (`break`, `return`, a throw) closes the client. */
  [Symbol.asyncIterator](): AsyncIterator<ClientEvent<M>>
}
