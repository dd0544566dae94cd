import type { ServerResponse } from 'node:http'
import { HeraldClosedError, HeraldLimitError } from '../errors.js'
import { admitStream } from '../http/admit.js'
import { endAtDeadline } from '../http/lifetime.js'
import type { Hub, RequestInfo, StreamOptions, Subscription } from '../types.js'
import { createNodeSink, type NodeResponse } from './sink.js'

function refuseNode(res: NodeResponse, status: number, headers: Record<string, string>, body: string): void {
  res.statusCode = status
  for (const name in headers) res.setHeader(name, headers[name]!)
  res.end(body)
}

/**
 * Serves one event stream on a Node response (Express `res`, Koa `ctx.res` with `ctx.respond = false`,
 * `c.env.outgoing` on @hono/node-server, `event.runtime.node.res` on srvx; HTTP/1.1 or HTTP/2).
 * A refusal writes its status, headers (with `Retry-After` for limits) and plain-text body, ends the
 * response and resolves undefined. A `HEAD` request gets the status and headers a GET would get, no body
 * and no subscription (resolves undefined). Otherwise resolves the subscription; it ends when the client leaves.
 */
export async function serveNode<Req>(
  hub: Hub,
  options: StreamOptions<Req>,
  req: Req,
  info: RequestInfo,
  res: NodeResponse,
): Promise<Subscription | undefined> {
  const admission = await admitStream(hub, options, req, info)
  if (!admission.ok) {
    refuseNode(res, admission.status, admission.headers, admission.body)
    return undefined
  }
  // Checked again right before the sink sends headers: another request may have taken the last slot.
  const late = hub.checkAdmission(admission.clientKey)
  if (late) {
    const headers: Record<string, string> = { ...admission.headers }
    headers['content-type'] = 'text/plain; charset=utf-8'
    headers['cache-control'] = 'no-store'
    headers['retry-after'] = String(late.retryAfterSeconds)
    delete headers['x-accel-buffering']
    refuseNode(res, late.status, headers, late.reason)
    return undefined
  }
  if ((info.method ?? (res as { req?: { method?: string } }).req?.method) === 'HEAD') {
    // What a GET would get, without the body: no subscriber, no stream kept open.
    res.removeHeader('content-length')
    ;(res as ServerResponse).writeHead(200, admission.headers)
    res.end()
    return undefined
  }
  const sink = createNodeSink(res, admission.headers)
  try {
    const subscription = hub.subscribe({
      sink,
      topics: admission.topics,
      lastEventId: admission.lastEventId,
      clientKey: admission.clientKey,
    })
    if (admission.deadline) endAtDeadline(subscription, sink, admission.deadline, options)
    return subscription
  } catch (error) {
    if (error instanceof HeraldLimitError || error instanceof HeraldClosedError) {
      sink.end()
      return undefined
    }
    // Headers are out: without this the response stays open (Koa with `respond = false` never ends it).
    sink.abort?.()
    throw error
  }
}
