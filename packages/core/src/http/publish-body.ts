import { HeraldBrokerError, HeraldClosedError, HeraldEncodingError, HeraldTopicError } from '../errors.js'
import type { Hub } from '../types.js'

/** The statuses `publishFromBody` and `createPublishGuard` answer with (literal, so frameworks need no cast). */
export type PublishStatus = 200 | 400 | 401 | 403 | 415 | 503

/** The outcome of `POST /publish`: the HTTP status, the JSON body and any headers to send. */
export interface PublishOutcome {
  status: PublishStatus
  body: { id: string } | { error: string }
  /** Response headers to set as well: `retry-after` on a 503 (hub closed, broker unavailable). */
  headers?: Record<string, string>
}

const FIELDS = new Set(['topic', 'event', 'data'])

/**
 * The publish endpoint every sample app serves (and the conformance suite drives), in one place.
 * Validates a parsed `POST /publish` body, `{ topic, event?, data }`, and publishes it on `hub`.
 * Anything wrong gives 400 with a reason and publishes nothing: a body that is not an object, a missing or
 * non-string field, an `id` (the hub assigns ids) or any other unknown field, an `event` named like one
 * of the hub's own notices (`hub.rules.controlEvents`: reset, gap, slow-consumer, the connected event),
 * and values the hub refuses (`HeraldEncodingError`, e.g. an event name with a line break or an event
 * over `maxEventBytes`; `HeraldTopicError`). A closed hub (`HeraldClosedError`) or an unavailable broker
 * (`HeraldBrokerError`) gives 503 with a `retry-after` header in `headers`. It checks the body only: put
 * the request checks (`checkPublishRequest`: Content-Type, Origin, token) in front of it.
 *
 * @example
 * app.post('/publish', express.json(), async (req, res) => {
 *   const { status, body, headers } = await publishFromBody(hub, req.body)
 *   res.status(status).set(headers ?? {}).json(body)
 * })
 */
export async function publishFromBody(hub: Hub, body: unknown): Promise<PublishOutcome> {
  const refuse = (error: string): PublishOutcome => ({ status: 400, body: { error } })
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return refuse('body must be a JSON object: { "topic": string, "event"?: string, "data": string }')
  }
  const fields = body as Record<string, unknown>
  if ('id' in fields) return refuse('id is assigned by the hub; do not send one')
  const unknown = Object.keys(fields).find((key) => !FIELDS.has(key))
  if (unknown !== undefined) return refuse(`unknown field ${JSON.stringify(unknown)}`)
  const { topic, event, data } = fields
  if (typeof topic !== 'string') return refuse('topic is required and must be a string')
  if (event !== undefined && typeof event !== 'string') return refuse('event must be a string')
  if (typeof data !== 'string') return refuse('data is required and must be a string')
  if (event !== undefined && hub.rules.controlEvents.includes(event)) {
    return refuse(
      `event ${JSON.stringify(event)} is reserved: the hub sends it itself ` +
        `(reserved: ${hub.rules.controlEvents.join(', ')})`,
    )
  }
  try {
    const id = await hub.publish(topic, event === undefined ? { data } : { event, data })
    return { status: 200, body: { id } }
  } catch (err) {
    if (err instanceof HeraldEncodingError || err instanceof HeraldTopicError) return refuse(err.message)
    if (err instanceof HeraldClosedError || err instanceof HeraldBrokerError) {
      return {
        status: 503,
        body: { error: err.message },
        headers: { 'retry-after': String(err.retryAfterSeconds) },
      }
    }
    throw err
  }
}
