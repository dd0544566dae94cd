import { topicProblem } from '../hub/topics.js'
import type { Admission, Hub, RequestInfo, StreamOptions } from '../types.js'
import { SSE_HEADERS } from './headers.js'
import { readLastEventId } from './last-event-id.js'

function refuse(
  status: number,
  body: string,
  extra: Record<string, string> | undefined,
  retryAfterSeconds?: number,
): Admission {
  const headers: Record<string, string> = { ...lowerCase(extra) }
  headers['content-type'] = 'text/plain; charset=utf-8'
  headers['cache-control'] = 'no-store'
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds)
  return { ok: false, status, headers, body }
}

function lowerCase(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (headers) for (const name in headers) out[name.toLowerCase()] = headers[name]!
  return out
}

/**
 * Decides whether a request may open a stream, before anything is written: runs `authorize`
 * (false → 403, `{ status: 401 }` → 401; an exception propagates to the framework), resolves the topics
 * (default: every `topic` query parameter; none or an invalid one → 400), reads the Last-Event-ID and
 * checks the hub's limits without subscribing (closed → 503, `maxSubscribers` → 503,
 * `maxSubscribersPerClient` → 429, each with `Retry-After`). Refusal bodies are short plain text.
 */
export async function admitStream<Req>(
  hub: Hub,
  options: StreamOptions<Req>,
  req: Req,
  info: RequestInfo,
): Promise<Admission> {
  if (options.authorize) {
    const verdict = await options.authorize(req)
    if (verdict === false) return refuse(403, 'Forbidden', options.headers)
    if (verdict !== true && verdict !== undefined && verdict !== null) {
      const status = verdict.status === 401 ? 401 : 403
      return refuse(
        status,
        verdict.reason ?? (status === 401 ? 'Unauthorized' : 'Forbidden'),
        options.headers,
      )
    }
  }
  const requested = options.topics ? await options.topics(req) : info.url.searchParams.getAll('topic')
  if (!Array.isArray(requested) || requested.length === 0) {
    return refuse(400, 'Missing topic: pass at least one ?topic=', options.headers)
  }
  for (const topic of requested) {
    const problem = topicProblem(topic)
    if (problem) return refuse(400, `Invalid topic: ${problem}`, options.headers)
  }
  const topics = [...new Set<string>(requested)]
  const clientKey = options.clientKey ? options.clientKey(req) : info.remoteAddress
  const refused = hub.checkAdmission(clientKey)
  if (refused) return refuse(refused.status, refused.reason, options.headers, refused.retryAfterSeconds)
  const headers = { ...lowerCase(options.headers), ...SSE_HEADERS }
  const admission: Admission = { ok: true, topics, headers }
  const lastEventId = readLastEventId(info)
  if (lastEventId !== undefined) admission.lastEventId = lastEventId
  if (clientKey !== undefined) admission.clientKey = clientKey
  return admission
}
