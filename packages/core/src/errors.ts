/** Base class of every error Herald throws. `code` is stable and safe to branch on. */
export class HeraldError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** A field of an event breaks a rule of the event-stream format. Nothing was encoded or sent. */
export class HeraldEncodingError extends HeraldError {
  /** The offending field: `data`, `event`, `id`, `retry`, `comment` or `message` (the whole value). */
  readonly field: string
  constructor(field: string, code: string, rule: string) {
    super(code, `Invalid SSE ${field}: ${rule}`)
    this.field = field
  }
}

/** An option passed to a Herald factory is out of range or of the wrong type. */
export class HeraldConfigError extends HeraldError {
  readonly option: string
  constructor(option: string, rule: string) {
    super('ERR_HERALD_INVALID_OPTION', `Invalid option ${option}: ${rule}`)
    this.option = option
  }
}

// A list of a thousand topics must not make a thousand-topic message.
const shorten = (text: string) => (text.length > 80 ? `${text.slice(0, 77)}...` : text)

/**
 * A topic name is empty, too long, holds a control character or breaks `topicPattern`, or a stream asks
 * for more than `maxTopicsPerStream` topics. Nothing was published or subscribed.
 */
export class HeraldTopicError extends HeraldError {
  /** The offending value, as given. */
  readonly topic: unknown
  constructor(topic: unknown, rule: string) {
    super(
      'ERR_HERALD_INVALID_TOPIC',
      `Invalid topic ${shorten(JSON.stringify(topic) ?? String(topic))}: ${rule}`,
    )
    this.topic = topic
  }
}

/**
 * A subscriber was refused because a limit is reached: `ERR_HERALD_TOO_MANY_SUBSCRIBERS` (the hub's
 * `maxSubscribers`, HTTP 503) or `ERR_HERALD_CLIENT_LIMIT` (`maxSubscribersPerClient`, HTTP 429).
 */
export class HeraldLimitError extends HeraldError {
  /** The HTTP status an adapter answers with. */
  readonly status: 429 | 503
  /** What to send as `Retry-After`. */
  readonly retryAfterSeconds: number
  constructor(
    code: 'ERR_HERALD_TOO_MANY_SUBSCRIBERS' | 'ERR_HERALD_CLIENT_LIMIT',
    status: 429 | 503,
    message: string,
    retryAfterSeconds: number,
  ) {
    super(code, message)
    this.status = status
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/** The hub is closed (`hub.close()` ran): it takes no new subscribers and no publishes. HTTP 503. */
export class HeraldClosedError extends HeraldError {
  readonly status = 503
  /** What to send as `Retry-After`. */
  readonly retryAfterSeconds: number
  constructor(message: string, retryAfterSeconds: number) {
    super('ERR_HERALD_CLOSED', message)
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/**
 * The broker (e.g. Redis) is unavailable: the event was not published, or the history could not be read.
 * HTTP 503 with `Retry-After`; `publishFromBody` answers so. The cause, when known, is `cause`.
 */
export class HeraldBrokerError extends HeraldError {
  readonly status = 503
  /** What to send as `Retry-After`. */
  readonly retryAfterSeconds: number
  constructor(message: string, retryAfterSeconds = 5, options?: ErrorOptions) {
    super('ERR_HERALD_BROKER_UNAVAILABLE', message, options)
    this.retryAfterSeconds = retryAfterSeconds
  }
}
