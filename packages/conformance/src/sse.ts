// An event-stream connection as the checks see it: the response head, then every event and comment with
// the time it became readable, parsed by eventsource-parser and by the spec parser side by side.
import { createParser } from 'eventsource-parser'
import { decodeBody, type HttpClient, type RawResponse } from './http.js'
import { type SpecEvent, SpecParser } from './spec-parser.js'

/** One event as eventsource-parser reads it, with the moment (performance.now()) it was complete. */
export interface ReceivedEvent {
  id: string | undefined
  event: string | undefined
  data: string
  at: number
}

/** Options for {@link openStream}. */
export interface OpenOptions {
  /** Extra request headers (`Accept-Encoding`, `Last-Event-ID`, ...). */
  headers?: Record<string, string>
  /** Feed the parsers in pieces of this many bytes, to exercise splits inside characters and lines. */
  feedBytes?: number
  timeoutMs?: number
  /** Share one connection (HTTP/2 session) with other requests instead of opening a dedicated one. */
  shared?: boolean
  /** Do not read the body until `resume()`: a client that stops reading. */
  stalled?: boolean
  /** Keep only events this accepts in `events` (others, e.g. a server's connect event, go to `ignored`). */
  accept?: (event: ReceivedEvent) => boolean
}

/** A live event stream. Everything the server sends is recorded; `waitFor*` polls those records. */
export class SseStream {
  readonly status: number
  readonly headers: Record<string, string>
  readonly headersMs: number
  readonly events: ReceivedEvent[] = []
  /** Events `accept` turned away. */
  readonly ignored: ReceivedEvent[] = []
  readonly comments: { text: string; at: number }[] = []
  /** The same stream as the WHATWG algorithm reads it. */
  readonly spec = new SpecParser()
  retry: number | undefined
  /** Decoded body bytes received so far. */
  bytes = 0
  /** Set when the body ended (the server hung up) or failed to decode. */
  ended = false
  error: Error | undefined
  private readonly res: RawResponse
  private readonly start: () => void

  constructor(res: RawResponse, feedBytes = 0, stalled = false, accept?: (event: ReceivedEvent) => boolean) {
    this.res = res
    this.status = res.status
    this.headers = res.headers
    this.headersMs = res.headersMs
    const parser = createParser({
      onEvent: (e) => {
        const event = { id: e.id, event: e.event, data: e.data, at: performance.now() }
        if (accept === undefined || accept(event)) this.events.push(event)
        else this.ignored.push(event)
      },
      onComment: (text) => this.comments.push({ text, at: performance.now() }),
      onRetry: (retry) => {
        this.retry = retry
      },
    })
    const decoder = new TextDecoder('utf-8', { fatal: true })
    const feed = (bytes: Uint8Array, last: boolean) => {
      const text = decoder.decode(bytes, { stream: !last })
      parser.feed(text)
      this.spec.feed(text)
    }
    const body = decodeBody(res.wire, res.headers['content-encoding'])
    const onData = (chunk: Buffer) => {
      this.bytes += chunk.length
      try {
        if (feedBytes > 0) {
          for (let i = 0; i < chunk.length; i += feedBytes) feed(chunk.subarray(i, i + feedBytes), false)
        } else {
          feed(chunk, false)
        }
      } catch (error) {
        this.error = new Error(`the body is not valid UTF-8: ${(error as Error).message}`)
        res.abort()
      }
    }
    this.start = () => {
      body.on('data', onData)
      body.resume()
    }
    if (stalled) body.pause()
    else this.start()
    body.on('error', (error) => {
      this.error ??= error
      this.ended = true
    })
    body.on('end', () => {
      this.ended = true
    })
    body.on('close', () => {
      this.ended = true
    })
  }

  /** Events as the spec parser dispatched them. */
  get specEvents(): readonly SpecEvent[] {
    return this.spec.events
  }

  /** Starts reading a stream opened with `stalled: true`. */
  resume(): void {
    this.start()
  }

  /** Closes the connection from the client side. */
  close(): void {
    this.res.abort()
  }

  /** Resolves with the first truthy `check()` result, or throws `what` after `timeoutMs`. */
  waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    return waitUntil(
      what,
      () => {
        if (this.error) throw new Error(`${what}: the stream failed: ${this.error.message}`)
        return check()
      },
      timeoutMs,
    )
  }

  /** Waits until at least `count` events arrived (not counting those `skip` matches). */
  waitForEvents(count: number, timeoutMs = 5000, what = `${count} event(s)`): Promise<ReceivedEvent[]> {
    return this.waitFor(
      `waiting for ${what}`,
      () => (this.events.length >= count ? this.events.slice(0, count) : undefined),
      timeoutMs,
    ).catch((error: Error) => {
      throw new Error(`${error.message} (got ${this.events.length}${this.ended ? ', stream ended' : ''})`)
    })
  }
}

/** Opens `url` as an event stream and resolves once the response headers arrived. */
export async function openStream(
  client: HttpClient,
  url: URL,
  options: OpenOptions = {},
): Promise<SseStream> {
  const res = await client
    .request(url, {
      headers: { accept: 'text/event-stream', ...options.headers },
      // A stream whose headers wait for the first event would deadlock a check that publishes after
      // connecting; seconds are plenty for a head that should take milliseconds.
      timeoutMs: options.timeoutMs ?? 3000,
      dedicated: !options.shared,
    })
    .catch((error: Error) => {
      if (!error.message.startsWith('no response headers')) throw error
      throw new Error(
        `${error.message}: the server holds the head until the first event, so this check cannot publish; send the headers when the stream starts`,
      )
    })
  return new SseStream(res, options.feedBytes, options.stalled, options.accept)
}

/** Polls `check` every few milliseconds until it returns something truthy. */
export async function waitUntil<T>(
  what: string,
  check: () => T | undefined | false,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value) return value
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
