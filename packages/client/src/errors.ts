/** What went wrong, as a stable string to branch on. */
export type HeraldClientErrorCode =
  /** A `connect()` option breaks its rule (`HeraldClientConfigError`). */
  | 'ERR_SSE_CONFIG'
  /** The server answered with a status that is not 2xx (`HeraldHttpError`). */
  | 'ERR_SSE_HTTP_STATUS'
  /** The server answered 2xx with something other than `text/event-stream` (`HeraldHttpError`). */
  | 'ERR_SSE_CONTENT_TYPE'
  /** The request failed or the connection broke (the fetch error is the `cause`). */
  | 'ERR_SSE_NETWORK'
  /** The server ended the stream. */
  | 'ERR_SSE_ENDED'
  /** Nothing arrived, not even a heartbeat comment, for `watchdogMs`. */
  | 'ERR_SSE_STALLED'
  /** The network came back or the page became visible after a network change: reconnecting at once. */
  | 'ERR_SSE_NETWORK_CHANGED'
  /** Building the request failed: the `headers` or `body` function threw (its error is the `cause`). */
  | 'ERR_SSE_REQUEST'
  /** A `parse` function threw for an event (its error is the `cause`). */
  | 'ERR_SSE_PARSE'
  /** An event or line grew past `maxEventLength` characters. */
  | 'ERR_SSE_EVENT_TOO_LARGE'
  /** `maxAttempts` consecutive attempts failed (the last reason is the `cause`). */
  | 'ERR_SSE_GAVE_UP'

/** Every error this package throws or reports. `code` says which rule or failure it is. */
export class HeraldClientError extends Error {
  // `declare`: assigned in the constructor, so no separate field definition is emitted (smaller bundle).
  declare readonly code: HeraldClientErrorCode
  constructor(code: HeraldClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'HeraldClientError'
    this.code = code
  }
}

/** A `connect()` option that breaks its rule; `field` names it. Thrown by `connect()` itself. */
export class HeraldClientConfigError extends HeraldClientError {
  declare readonly field: string
  constructor(field: string, rule: string) {
    super('ERR_SSE_CONFIG', `Invalid option ${field}: ${rule}`)
    this.name = 'HeraldClientConfigError'
    this.field = field
  }
}

/**
 * The server refused the stream (`ERR_SSE_HTTP_STATUS`) or answered with something that is not an event
 * stream (`ERR_SSE_CONTENT_TYPE`). Carries the status, the response headers and the body text (at most
 * 64 KiB of it).
 */
export class HeraldHttpError extends HeraldClientError {
  declare readonly status: number
  declare readonly headers: Headers
  declare readonly body: string
  constructor(code: 'ERR_SSE_HTTP_STATUS' | 'ERR_SSE_CONTENT_TYPE', response: Response, body: string) {
    super(
      code,
      code === 'ERR_SSE_HTTP_STATUS'
        ? `The server answered ${response.status}${body ? `: ${body.slice(0, 200)}` : ''}`
        : `Expected text/event-stream, got ${response.headers.get('content-type') ?? 'no Content-Type'} (status ${response.status})`,
    )
    this.name = 'HeraldHttpError'
    this.status = response.status
    this.headers = response.headers
    this.body = body
  }
}
