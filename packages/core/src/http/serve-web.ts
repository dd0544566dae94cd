import { HeraldClosedError, HeraldLimitError } from '../errors.js'
import { encodeComment } from '../protocol/encode.js'
import { createWebSink } from '../sink/web.js'
import type { Hub, RequestInfo, StreamOptions, Subscription } from '../types.js'
import { admitStream } from './admit.js'
import { endAtDeadline } from './lifetime.js'

const OPENING = encodeComment('ok')

/**
 * Serves one event stream as a web `Response` (Hono, h3, any Fetch-style server): admission, then a
 * web sink subscribed to the hub. A refusal is a plain-text `Response` with its status and headers.
 * Aborting `init.signal` (the client went away) releases the subscriber at once. With `info.method`
 * `HEAD`, the answer is the status and headers a GET would get, with no body and no subscription.
 */
export async function serveWeb<Req>(
  hub: Hub,
  options: StreamOptions<Req>,
  req: Req,
  info: RequestInfo,
  init: { signal?: AbortSignal } = {},
): Promise<Response> {
  const admission = await admitStream(hub, options, req, info)
  if (!admission.ok) {
    return new Response(admission.body, { status: admission.status, headers: admission.headers })
  }
  if (info.method === 'HEAD') {
    // What a GET would get, without the body: no subscriber, no stream kept open.
    return new Response(null, { status: 200, headers: admission.headers })
  }
  const { sink, stream } = createWebSink()
  let subscription: Subscription
  try {
    subscription = hub.subscribe({
      sink,
      topics: admission.topics,
      lastEventId: admission.lastEventId,
      clientKey: admission.clientKey,
    })
  } catch (error) {
    // A limit reached between admission and now (another request won the race).
    if (error instanceof HeraldLimitError || error instanceof HeraldClosedError) {
      return new Response(error.message, {
        status: error.status,
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          'retry-after': String(error.retryAfterSeconds),
        },
      })
    }
    // The subscriber may be registered already (a hook failed after it): release it with its stream.
    sink.abort()
    throw error
  }
  // Some servers (srvx) send headers only with the first chunk: give them one now.
  if (sink.written === 0) sink.write(OPENING)
  if (admission.deadline) endAtDeadline(subscription, sink, admission.deadline, options)
  const { signal } = init
  if (signal) {
    if (signal.aborted) sink.abort()
    else signal.addEventListener('abort', () => sink.abort(), { once: true })
  }
  return new Response(stream, { status: 200, headers: admission.headers })
}
