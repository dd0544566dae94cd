import { HeraldClosedError, HeraldEncodingError, HeraldTopicError } from '../errors.js'
import type { Hub } from '../types.js'

/** The outcome of `POST /publish`: the HTTP status and the JSON body to send. */
export interface PublishOutcome {
  status: number
  body: { id: string } | { error: string }
}

const FIELDS = new Set(['topic', 'event', 'data'])

/**
 * The publish endpoint every sample app serves (and the conformance suite drives), in one place.
 * Validates a parsed `POST /publish` body, `{ topic, event?, data }`, and publishes it on `hub`.
 * Anything wrong gives 400 with a reason and publishes nothing: a body that is not an object, a missing or
 * non-string field, an `id` (the hub assigns ids) or any other unknown field, and values the SSE encoder
 * refuses (`HeraldEncodingError`, e.g. an event name with a line break) or a bad topic (`HeraldTopicError`).
 * A closed hub gives 503.
 *
 * @example
 * app.post('/publish', express.json(), (req, res) => {
 *   const { status, body } = publishFromBody(hub, req.body)
 *   res.status(status).json(body)
 * })
 */
export function publishFromBody(hub: Hub, body: unknown): PublishOutcome {
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
  try {
    return { status: 200, body: { id: hub.publish(topic, event === undefined ? { data } : { event, data }) } }
  } catch (err) {
    if (err instanceof HeraldEncodingError || err instanceof HeraldTopicError) return refuse(err.message)
    if (err instanceof HeraldClosedError) return { status: 503, body: { error: err.message } }
    throw err
  }
}
