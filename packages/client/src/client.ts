import { parseRetryAfter, reconnectDelay } from './backoff.js'
import { HeraldClientError, type HeraldClientErrorCode, HeraldHttpError } from './errors.js'
import { checkOptions } from './options.js'
import { type Block, createParser } from './parser.js'
import { RecentIds } from './recent-ids.js'
import type {
  ClientEvent,
  ConnectionState,
  ConnectOptions,
  DataParser,
  EventMap,
  SseClient,
  SseEvent,
} from './types.js'

/** Events an iterator may hold before reading from the network pauses (and the server sees a slow reader). */
const HIGH_WATER = 1000
/** How much of a refused response's body an error keeps. */
const BODY_LIMIT = 65_536

type Listener = (data: unknown, event: SseEvent<string, unknown>) => void
/** An iterator's events not yet read, and how to wake its pending `next()` (an event came, or the end). */
type IteratorQueue = SseEvent<string, unknown>[] & { wake?: () => void }

type Listen = (type: string, listener: () => void) => void
interface EventTargetLike {
  addEventListener?: Listen
  removeEventListener?: Listen
}
// Only what every runtime has (fetch, TextDecoder, AbortController, timers); page events when they exist
// (Deno and workers have a global addEventListener too; `online` never fires there, which is harmless).
const env = globalThis as unknown as EventTargetLike & {
  document?: EventTargetLike & { visibilityState: string }
}
const now = () => performance.now()
/** A HeraldClientError from the code's suffix (one place spells the prefix). */
const fail = (code: string, message: string, cause?: unknown) =>
  new HeraldClientError(
    `ERR_SSE_${code}` as HeraldClientErrorCode,
    message,
    cause === undefined ? undefined : { cause },
  )

/** A throwing listener must not break the stream: rethrow it on its own, as an uncaught error. */
function call<A extends unknown[]>(fn: ((...args: A) => void) | undefined, ...args: A): void {
  try {
    fn?.(...args)
  } catch (error) {
    setTimeout(() => {
      throw error
    })
  }
}

/** Node and browsers read header values as bytes: send a non-ASCII id as its UTF-8 bytes. */
function headerValue(id: string): string {
  if (/^[\x00-\x7f]*$/.test(id)) return id
  let out = ''
  for (const byte of new TextEncoder().encode(id)) out += String.fromCharCode(byte)
  return out
}

/**
 * Reads a body as text: calls `each('')` first, then `each(piece)` after every piece, until it returns
 * true or the body ends; then lets the body go.
 */
async function readText(response: Response, each: (text: string) => unknown): Promise<void> {
  const reader = response.body?.getReader()
  const decoder = new TextDecoder()
  let text = ''
  try {
    while (reader && !(await each(text))) {
      const { done, value } = await reader.read()
      if (done) return
      text = decoder.decode(value, { stream: true })
    }
  } finally {
    reader?.cancel().catch(() => {})
  }
}

/** At most BODY_LIMIT characters of a response the client will not stream. */
async function readBody(response: Response): Promise<string> {
  let text = ''
  // On a read error, what arrived is enough to describe the refusal.
  await readText(response, (piece) => {
    text += piece
    return text.length >= BODY_LIMIT
  }).catch(() => {})
  return text.slice(0, BODY_LIMIT)
}

/**
 * Opens a Server-Sent Events stream with `fetch` and keeps it open: resumes with the last id, honours
 * `retry:` and Retry-After, backs off with jitter, stops on a 4xx (except 408 and 429), reconnects when the
 * network comes back or the stream stalls, and drops events it has already delivered.
 *
 * @example
 * const stream = connect<{ progress: { pct: number } }>('/events', {
 *   topics: 'builds',
 *   headers: { authorization: `Bearer ${token}` },
 *   parse: { progress: 'json' },
 * })
 * stream.on('progress', (data) => console.log(data.pct))
 */
export function connect<M extends EventMap = Record<string, string>>(
  url: string | URL,
  options: ConnectOptions<M> = {},
): SseClient<M> {
  const target = checkOptions(url, options as ConnectOptions<EventMap>)
  const {
    method = 'GET',
    headers,
    body,
    credentials,
    signal,
    lastEventIdQuery,
    parse = {},
    reconnect: { initialDelayMs = 1000, maxDelayMs = 30_000, maxAttempts = Infinity } = {},
    watchdogMs = 45_000,
    rememberIds = 1000,
    maxEventLength = 16 * 1024 * 1024,
    resetEvent = 'reset',
    gapEvent = 'gap',
    fetch: fetchImpl = fetch,
    onOpen,
    onReconnecting,
    onError,
    onReset,
    onGap,
    onRetryHint,
  } = options
  const parsers = parse as Record<string, DataParser<unknown> | undefined>
  const idParam = lastEventIdQuery === true ? 'lastEventId' : lastEventIdQuery
  const recent = new RecentIds(rememberIds)
  const listeners = new Map<string, Set<Listener>>()
  const iterators = new Set<IteratorQueue>()
  let state: ConnectionState = 'connecting'
  let lastId = options.lastEventId ?? ''
  if (lastId) recent.add(lastId)
  let serverRetry: number | undefined
  /** Failed attempts in a row; an event or a comment proves the stream healthy and resets it. */
  let failures = 0
  let stopped = false
  /** The error that stopped the client, for iterators opened afterwards. */
  let fatal: HeraldClientError | undefined
  let controller: AbortController | undefined
  /** Why this client aborted the current attempt itself (a stall, a network change). */
  let interruption: HeraldClientError | undefined
  /** Ends the current wait between attempts early. */
  let wake: (() => void) | undefined
  let lastActivity = 0
  /** The watchdog while an attempt runs, the wait between attempts otherwise (never both). */
  let timer: ReturnType<typeof setTimeout> | undefined
  /** Set while an iterator is full: reading waits for it. */
  let room: Promise<void> | undefined
  let release: (() => void) | undefined
  let networkChanged = false
  let settle!: (error?: HeraldClientError) => void
  const closed = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve())
  })
  // `closed` rejects when the client stops on an error; nobody has to be listening for that.
  closed.catch(() => {})

  const parser = createParser(
    {
      block: deliver,
      comment: () => {
        failures = 0
      },
      retry: (ms) => {
        serverRetry = ms
        call(onRetryHint, ms)
      },
      tooLarge: () => finish(fail('EVENT_TOO_LARGE', `An event or line passed ${maxEventLength} characters`)),
    },
    maxEventLength,
  )

  function deliver({ type, data: text, id }: Block): void {
    if (stopped) return
    failures = 0
    if (text === undefined) {
      lastId = id!
      return
    }
    if (id !== undefined) {
      // Seen before the reconnect: the server replayed it again. A reset is never dropped.
      if (id !== '' && type !== resetEvent && recent.has(id)) return
      lastId = id
      if (id !== '') recent.add(id)
    }
    let data: unknown = text
    const convert = parsers[type]
    if (convert) {
      try {
        data = convert === 'json' ? JSON.parse(text) : convert(text)
      } catch (cause) {
        finish(fail('PARSE', `Cannot parse the data of "${type}"${id ? ` (id ${id})` : ''}`, cause))
        return
      }
    }
    const e: SseEvent<string, unknown> = { type, data, text, id, lastEventId: lastId }
    if (type === resetEvent) {
      // A new id space (another epoch, a restarted server): ids from before can no longer repeat.
      recent.clear()
      if (id) recent.add(id)
      call(onReset, e as SseEvent)
    } else if (type === gapEvent) {
      call(onGap, e as SseEvent, /^\d+$/.test(text) ? Number(text) : undefined)
    }
    for (const listener of listeners.get(type) ?? []) call(listener, data, e)
    for (const queue of iterators) {
      queue.push(e)
      if (queue.length >= HIGH_WATER)
        room ??= new Promise((resolve) => {
          release = resolve
        })
      queue.wake?.()
    }
  }

  function resumeIfRoom(): void {
    for (const queue of iterators) if (queue.length >= HIGH_WATER) return
    if (!room) return
    release!()
    room = undefined
    lastActivity = now() // time spent waiting for our own reader is not silence from the server
  }

  function interrupt(reason: HeraldClientError): void {
    interruption = reason
    controller?.abort(reason)
  }

  function checkWatchdog(): void {
    const idle = now() - lastActivity
    if (room || idle < watchdogMs) {
      timer = setTimeout(checkWatchdog, room ? watchdogMs : watchdogMs - idle)
      return
    }
    interrupt(fail('STALLED', `Nothing arrived for ${watchdogMs} ms`))
  }

  function requestUrl(): URL {
    const request = new URL(target)
    if (idParam && lastId) request.searchParams.set(idParam, lastId)
    return request
  }

  async function requestInit(abort: AbortSignal): Promise<RequestInit> {
    try {
      const h = new Headers(typeof headers === 'function' ? await headers() : headers)
      if (!h.has('accept')) h.set('accept', 'text/event-stream')
      if (lastId) h.set('last-event-id', headerValue(lastId))
      return {
        method,
        headers: h,
        body: typeof body === 'function' ? body() : body,
        credentials,
        signal: abort,
      }
    } catch (cause) {
      throw fail('REQUEST', `Cannot build the request: ${(cause as Error)?.message}`, cause)
    }
  }

  async function read(response: Response, abort: AbortSignal): Promise<void> {
    parser.reset()
    state = 'open'
    call(onOpen, response)
    await readText(response, async (text) => {
      lastActivity = now()
      parser.feed(text)
      await room // an iterator is full: read on when it has room
      if (abort.aborted) throw abort.reason
      return stopped
    })
  }

  /** One request; returns why it ended (or stops the client) and the Retry-After it carried. */
  async function attempt(): Promise<{ reason: HeraldClientError; retryAfterMs?: number } | undefined> {
    const abort = new AbortController()
    controller = abort
    interruption = undefined
    lastActivity = now()
    if (watchdogMs) timer = setTimeout(checkWatchdog, watchdogMs)
    try {
      const response = await fetchImpl(requestUrl(), await requestInit(abort.signal))
      const { status } = response
      if (status === 204) return finish() // the server says: do not reconnect
      if (!response.ok) {
        const error = new HeraldHttpError('ERR_SSE_HTTP_STATUS', response, await readBody(response))
        if (status >= 400 && status < 500 && status !== 408 && status !== 429) return finish(error)
        const retryAfterMs =
          status === 429 || status === 503 ? parseRetryAfter(response.headers.get('retry-after')) : undefined
        return { reason: error, retryAfterMs }
      }
      if (!/^text\/event-stream\b/i.test(response.headers.get('content-type') ?? '')) {
        return finish(new HeraldHttpError('ERR_SSE_CONTENT_TYPE', response, await readBody(response)))
      }
      await read(response, abort.signal)
      return { reason: fail('ENDED', 'The server ended the stream') }
    } catch (error) {
      // Ours: a request that could not be built, or the reason this client aborted the attempt.
      if (error instanceof HeraldClientError) return { reason: error }
      const message = (error as Error)?.message ?? String(error)
      return { reason: interruption ?? fail('NETWORK', `Connection failed: ${message}`, error) }
    } finally {
      clearTimeout(timer)
      abort.abort() // let go of a body this attempt did not finish reading
    }
  }

  async function run(): Promise<void> {
    while (!stopped) {
      const ended = await attempt()
      if (!ended || stopped) return
      const { reason, retryAfterMs } = ended
      state = 'connecting'
      const immediate = reason.code === 'ERR_SSE_NETWORK_CHANGED'
      if (!immediate && ++failures >= maxAttempts) {
        finish(
          fail('GAVE_UP', `Gave up after ${maxAttempts} failed attempts in a row: ${reason.message}`, reason),
        )
        return
      }
      const delayMs = immediate
        ? 0
        : reconnectDelay(failures, serverRetry ?? initialDelayMs, initialDelayMs, maxDelayMs, retryAfterMs)
      call(onReconnecting, { attempt: Math.max(failures, 1), delayMs, reason })
      if (stopped) return
      await new Promise<void>((resolve) => {
        wake = resolve
        timer = setTimeout(resolve, delayMs)
      })
      clearTimeout(timer)
      wake = undefined
    }
  }

  function reconnectNow(): void {
    networkChanged = false
    if (stopped) return
    if (wake) wake()
    else interrupt(fail('NETWORK_CHANGED', 'The network changed: reconnecting at once'))
  }
  const onOffline = () => {
    networkChanged = true
  }
  const onVisibility = () => {
    if (env.document?.visibilityState === 'visible' && (wake || networkChanged)) reconnectNow()
  }
  /** Starts or stops listening to the page and the signal. */
  const listen = (method: keyof EventTargetLike) => {
    env[method]?.('online', reconnectNow)
    env[method]?.('offline', onOffline)
    env.document?.[method]?.('visibilitychange', onVisibility)
    ;(signal as EventTargetLike | undefined)?.[method]?.('abort', close)
  }

  function finish(error?: HeraldClientError): undefined {
    if (stopped) return
    stopped = true
    fatal = error
    state = 'closed'
    controller?.abort(error)
    clearTimeout(timer)
    wake?.()
    release?.()
    listen('removeEventListener')
    for (const queue of iterators) queue.wake?.()
    if (error) call(onError, error)
    settle(error)
  }

  function close(): void {
    finish()
  }

  function iterate(): AsyncIterator<ClientEvent<M>> {
    const queue: IteratorQueue = []
    /** The error that stopped the client is thrown once, then the iterator is done. */
    let thrown = false
    if (!stopped) iterators.add(queue)
    const done = { value: undefined, done: true } as IteratorResult<ClientEvent<M>>
    const leave = async () => {
      iterators.delete(queue)
      queue.length = 0
      close()
      return done
    }
    const next = async (): Promise<IteratorResult<ClientEvent<M>>> => {
      const event = queue.shift()
      if (event) {
        resumeIfRoom()
        return { value: event as ClientEvent<M>, done: false }
      }
      if (stopped) {
        const error = thrown ? undefined : fatal
        thrown = true
        if (error) throw error
        return done
      }
      // Woken by the next event or by the end (possibly more than once: resolving again does nothing).
      await new Promise<void>((resolve) => {
        queue.wake = resolve
      })
      queue.wake = undefined
      return next()
    }
    return { next, return: leave, throw: leave }
  }

  const client: SseClient<M> = {
    on(type, listener) {
      const set = listeners.get(type) ?? new Set()
      listeners.set(type, set)
      set.add(listener as Listener)
      return () => {
        set.delete(listener as Listener)
      }
    },
    close,
    get state() {
      return state
    },
    get lastEventId() {
      return lastId
    },
    closed,
    [Symbol.asyncIterator]: iterate,
  }

  if (signal?.aborted) finish()
  else {
    listen('addEventListener')
    run().catch((error) => finish(fail('NETWORK', String(error), error)))
  }
  return client
}
