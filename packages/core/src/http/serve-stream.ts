import type { Hub, RequestInfo, Sink, StreamOptions, Subscription } from '../types.js'
import { admitStream, refusal } from './admit.js'

/** What a transport does differently when it answers a stream request; everything else is shared. */
export interface StreamTransport<T> {
  /** Sends a refusal: its status, headers (the user's, e.g. CORS, plus the refusal's) and a plain-text body. */
  refuse(status: number, headers: Record<string, string>, body: string): T
  /** Answers `HEAD` with the headers a GET would get, and no body. */
  head(headers: Record<string, string>): T
  /** Opens the stream with `headers` (status 200) and returns its sink. */
  open(headers: Record<string, string>): Sink
  /** The answer once `subscription` runs on the opened sink. */
  opened(sink: Sink, subscription: Subscription): T
}

/**
 * The one admission and refusal path of `serveNode` and `serveWeb`: admits the request (URL, topics,
 * authorize), checks the hub's limits right before the stream opens (synchronously, so no other request
 * can take the last slot in between), then opens the sink and subscribes it. Every refusal carries the
 * same headers, whichever the transport. If `subscribe` throws anyway (a hook failed and `onError`
 * rethrew), the opened stream is torn down and the error propagates.
 */
export async function serveStream<Req, T>(
  hub: Hub,
  options: StreamOptions<Req>,
  req: Req,
  info: RequestInfo,
  method: string | undefined,
  transport: StreamTransport<T>,
): Promise<T> {
  const admission = await admitStream(hub, options, req, info)
  if (!admission.ok) return transport.refuse(admission.status, admission.headers, admission.body)
  const limited = hub.checkAdmission(admission.clientKey)
  if (limited) {
    const r = refusal(limited.status, limited.reason, options.headers, limited.retryAfterSeconds)
    return transport.refuse(r.status, r.headers, r.body)
  }
  // What a GET would get, without the body: no subscriber, no stream kept open.
  if (method === 'HEAD') return transport.head(admission.headers)
  const sink = transport.open(admission.headers)
  let subscription: Subscription
  try {
    subscription = hub.subscribe({
      sink,
      topics: admission.topics,
      lastEventId: admission.lastEventId,
      clientKey: admission.clientKey,
    })
  } catch (error) {
    // The subscriber may be registered already (a hook failed after it): release it with its stream.
    if (sink.abort) sink.abort()
    else sink.end()
    throw error
  }
  return transport.opened(sink, subscription)
}
