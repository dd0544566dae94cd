// Check 1: the response head reaches the client at once, before any event, with the headers that keep
// proxies and compression middleware from buffering the stream.
import type { SseStream } from '../sse.js'
import type { CaseContext, ConformanceCase } from '../target.js'
import { ACCEPT_ALL_ENCODINGS, assertNone } from './util.js'

/** Headers answered within this many milliseconds of the request, with nothing published. */
export const HEADERS_WITHIN_MS = 100

// Connection-specific headers are forbidden in HTTP/2 (RFC 9113 §8.2.2); Node warns or throws on them.
const H2_FORBIDDEN = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']

/**
 * Every rule the head of an event-stream response breaks. `behindProxy`: the response came through a
 * reverse proxy, which may consume `X-Accel-Buffering` (nginx honours it and strips it), so its absence
 * is reported through `note` instead.
 */
export function headProblems(
  stream: Pick<SseStream, 'status' | 'headers'>,
  protocol: string,
  behindProxy = false,
  note: (text: string) => void = () => {},
): string[] {
  const problems: string[] = []
  const h = stream.headers
  if (stream.status !== 200) problems.push(`status ${stream.status}, expected 200`)
  const type = h['content-type'] ?? ''
  if (!/^text\/event-stream\s*(;|$)/i.test(type))
    problems.push(`Content-Type is ${JSON.stringify(type)}, expected text/event-stream`)
  const cacheControl = (h['cache-control'] ?? '')
    .toLowerCase()
    .split(',')
    .map((s) => s.trim())
  for (const token of ['no-cache', 'no-transform']) {
    if (!cacheControl.includes(token)) {
      problems.push(`Cache-Control ${JSON.stringify(h['cache-control'] ?? null)} lacks ${token}`)
    }
  }
  const accel = h['x-accel-buffering']
  if ((accel ?? '').toLowerCase() !== 'no') {
    const seen = `X-Accel-Buffering is ${JSON.stringify(accel ?? null)}`
    if (accel === undefined && behindProxy) {
      note(`${seen}: behind a proxy that consumes it (nginx strips it); immediacy judged by timing`)
    } else if (accel === undefined && /nginx/i.test(h.server ?? '')) {
      note(`${seen} and the Server header says ${h.server} (which strips it); immediacy judged by timing`)
    } else {
      problems.push(
        `${seen}, expected "no" (it tells nginx-style proxies not to buffer; behind such a proxy, run with --behind-proxy)`,
      )
    }
  }
  if (h['content-length'] !== undefined)
    problems.push(`Content-Length ${h['content-length']} is set on a stream`)
  if (protocol === 'h2') {
    for (const name of H2_FORBIDDEN)
      if (h[name] !== undefined) problems.push(`HTTP/2 response carries ${name}`)
  }
  return problems
}

async function checkHead(ctx: CaseContext, headers: Record<string, string>): Promise<void> {
  const server = await ctx.server()
  // Headers that wait for the first event never come (a verdict); slow ones may be a loaded machine, so
  // the best of three attempts counts.
  let stream: SseStream | undefined
  const times: string[] = []
  for (let attempt = 1; attempt <= 3 && stream === undefined; attempt++) {
    // A head that never comes fails with openStream's reason (send the headers when the stream starts).
    const s = await ctx.connect(server, ctx.topic(), { headers, timeoutMs: 2000 })
    times.push(s.headersMs.toFixed(0))
    if (s.headersMs <= HEADERS_WITHIN_MS) stream = s
    else s.close()
  }
  if (stream === undefined) {
    throw new Error(
      `response headers took ${times.join(', ')} ms in three attempts (limit ${HEADERS_WITHIN_MS} ms, before ` +
        'any publish): they wait for something; flush them when the stream starts',
    )
  }
  if (times.length > 1) ctx.note(`slow attempts before: ${times.slice(0, -1).join(', ')} ms`)
  ctx.note(`headers after ${stream.headersMs.toFixed(1)} ms`)
  assertNone(headProblems(stream, ctx.protocol, ctx.settings.behindProxy, ctx.note))
  // A warning about a connection header is emitted while the head is written; give it a tick to land.
  await new Promise((resolve) => setImmediate(resolve))
  assertNone(ctx.errorOutput(), 'the server printed: ')
}

/** Check 1: the event-stream head arrives within 100 ms, before any event. */
export const headersImmediate: ConformanceCase = {
  id: 'headers.immediate',
  profile: 'sse',
  title: `200 and event-stream headers within ${HEADERS_WITHIN_MS} ms, before any event`,
  needs: [],
  run: (ctx) => checkHead(ctx, {}),
}

/** Check 1 with a browser's Accept-Encoding. */
export const headersCompressed: ConformanceCase = {
  id: 'headers.compressed',
  profile: 'sse',
  title: `the same with Accept-Encoding: gzip, deflate, br, zstd`,
  needs: [],
  run: (ctx) => checkHead(ctx, ACCEPT_ALL_ENCODINGS),
}
