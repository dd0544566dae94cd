import { HeraldConfigError } from '../errors.js'
import { topicProblem } from '../hub/topics.js'
import type { AuthorizeVerdict, Hub, RequestInfo, StreamOptions } from '../types.js'
import { SSE_HEADERS } from './headers.js'
import { readLastEventId } from './last-event-id.js'
import { parseRequestUrl } from './request-url.js'

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

/** A refusal: the caller's headers (CORS and the like), then plain text, not cached, not sniffed. */
export function refusal(
  status: number,
  body: string,
  extra: Record<string, string> | undefined,
  retryAfterSeconds?: number,
): Admission & { ok: false } {
  const headers: Record<string, string> = { ...lowerCase(extra) }
  headers['content-type'] = 'text/plain; charset=utf-8'
  headers['cache-control'] = 'no-store'
  headers['x-content-type-options'] = 'nosniff'
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds)
  return { ok: false, status, headers, body }
}

function lowerCase(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (headers) for (const name in headers) out[name.toLowerCase()] = headers[name]!
  return out
}

/** The topics `verdict` narrows `requested` to, or why not: a refusal (status and reason), or true. */
function readVerdict(
  verdict: AuthorizeVerdict,
  requested: readonly string[],
): { topics: string[] } | { status: 401 | 403; reason: string } | true {
  if (verdict === true || verdict === undefined || verdict === null) return true
  if (verdict === false) return { status: 403, reason: 'Forbidden' }
  if (typeof verdict !== 'object') {
    throw new HeraldConfigError(
      'authorize',
      `must return a boolean, { status: 401 | 403, reason? } or { topics }, got ${typeof verdict}`,
    )
  }
  if ('topics' in verdict) {
    const allowed = verdict.topics
    if (!Array.isArray(allowed)) throw new HeraldConfigError('authorize', '{ topics } must hold an array')
    // Narrowing only: a topic the client did not ask for is a bug in the callback, not a grant.
    const asked = new Set(requested)
    const stranger = allowed.find((topic) => !asked.has(topic))
    if (stranger !== undefined) {
      throw new HeraldConfigError(
        'authorize',
        `returned topic ${JSON.stringify(stranger)}, which was not requested; { topics } may only narrow`,
      )
    }
    if (allowed.length === 0)
      return { status: 403, reason: 'Forbidden: none of the requested topics is allowed' }
    return { topics: [...new Set<string>(allowed)] }
  }
  const status = verdict.status === 401 ? 401 : 403
  return { status, reason: verdict.reason ?? (status === 401 ? 'Unauthorized' : 'Forbidden') }
}

/**
 * Decides whether a request may open a stream, before anything is written, in this order: parses the
 * URL (unparsable → 400), resolves the topics (default: every `topic` query parameter; none, an invalid
 * name or more than the hub's `maxTopicsPerStream` → 400), reads the Last-Event-ID, runs `authorize` with
 * the topics and the id (false → 403, `{ status: 401 }` → 401, `{ topics }` → only those; an exception
 * propagates to the framework). The hub's limits are checked by `serveStream`, right before the stream
 * opens. Refusal bodies are one line of plain text.
 */
export async function admitStream<Req>(
  hub: Hub,
  options: StreamOptions<Req>,
  req: Req,
  info: RequestInfo,
): Promise<Admission> {
  const url = parseRequestUrl(info.url)
  if (!url) return refusal(400, 'Bad request: the request URL cannot be parsed', options.headers)
  const requested = options.topics ? await options.topics(req) : url.searchParams.getAll('topic')
  if (!Array.isArray(requested) || requested.length === 0) {
    return refusal(400, 'Missing topic: pass at least one ?topic=', options.headers)
  }
  const { rules } = hub
  for (const topic of requested) {
    const problem = topicProblem(topic, rules)
    if (problem) return refusal(400, `Invalid topic: ${problem}`, options.headers)
  }
  let topics = [...new Set<string>(requested)]
  if (topics.length > rules.maxTopicsPerStream) {
    return refusal(
      400,
      `Too many topics: at most ${rules.maxTopicsPerStream} per stream, got ${topics.length}`,
      options.headers,
    )
  }
  const lastEventId = readLastEventId(info, url)
  if (options.authorize) {
    const request = lastEventId === undefined ? { topics } : { topics, lastEventId }
    const verdict = readVerdict(await options.authorize(req, request), topics)
    if (verdict !== true) {
      if ('status' in verdict) return refusal(verdict.status, verdict.reason, options.headers)
      topics = verdict.topics
    }
  }
  const clientKey = options.clientKey ? options.clientKey(req) : info.remoteAddress
  const headers = { ...lowerCase(options.headers), ...SSE_HEADERS }
  const admission: Admission = { ok: true, topics, headers }
  if (lastEventId !== undefined) admission.lastEventId = lastEventId
  if (clientKey !== undefined) admission.clientKey = clientKey
  return admission
}
