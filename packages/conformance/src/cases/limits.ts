// Check 9: refusals happen before any stream starts, with a status a client can act on: 503 (hub full)
// and 429 (too many from one client) with Retry-After, 401/403 from `authorize`.
import type { ResponseHead } from '../http.js'
import { waitUntil } from '../sse.js'
import type { CaseContext, ConformanceCase } from '../target.js'
import { assertNone } from './util.js'

async function expectRefusal(
  ctx: CaseContext,
  url: URL,
  status: number,
  label: string,
  headers: Record<string, string> = {},
  retryAfter = true,
): Promise<string[]> {
  const res = await ctx.client
    .request(url, { headers: { accept: 'text/event-stream', ...headers }, timeoutMs: 5000 })
    .catch((error: Error) => {
      throw new Error(`${label}: ${error.message}`)
    })
  if (/text\/event-stream/i.test(res.headers['content-type'] ?? '')) {
    res.abort()
    return [`${label}: answered ${res.status} with an event stream, expected a ${status} refusal`]
  }
  // A refusal is a complete response: its body ends.
  const ended = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000)
    res.wire.once('close', () => clearTimeout(timer))
    res.wire
      .on('end', () => resolve(true))
      .on('close', () => resolve(true))
      .resume()
  })
  if (!ended) {
    res.abort()
    return [`${label}: the ${res.status} response did not end within 5 s`]
  }
  return refusalProblems(res, status, label, retryAfter)
}

function refusalProblems(res: ResponseHead, status: number, label: string, retryAfter: boolean): string[] {
  const problems: string[] = []
  if (res.status !== status) problems.push(`${label}: answered ${res.status}, expected ${status}`)
  if (/text\/event-stream/i.test(res.headers['content-type'] ?? ''))
    problems.push(`${label}: the refusal is an event stream`)
  if (retryAfter) {
    const value = res.headers['retry-after']
    if (value === undefined) problems.push(`${label}: no Retry-After`)
    else if (!/^\d+$/.test(value.trim()) && Number.isNaN(Date.parse(value))) {
      problems.push(`${label}: Retry-After ${JSON.stringify(value)} is neither seconds nor an HTTP date`)
    }
  }
  return problems
}

function urlWithTopic(base: URL, topic: string): URL {
  const url = new URL(base)
  url.searchParams.append('topic', topic)
  return url
}

/** Check 9: hub and per-client limits refuse with 503 / 429 and Retry-After. */
export const limitsCapacity: ConformanceCase = {
  id: 'limits.capacity',
  profile: 'herald-app',
  title: 'over maxSubscribers → 503, over maxSubscribersPerClient → 429, both with Retry-After',
  needs: ['hub'],
  async run(ctx) {
    const problems: string[] = []
    {
      const server = await ctx.server({ maxSubscribers: 2 })
      const topic = ctx.topic('limit-hub')
      const first = await ctx.connect(server, topic)
      await ctx.connect(server, topic)
      await waitUntil('two subscribers', () => server.hub!.subscriberCount() === 2, 5000)
      problems.push(
        ...(await expectRefusal(ctx, urlWithTopic(server.eventsUrl, topic), 503, 'third subscriber')),
      )
      first.close()
      await waitUntil('the first subscriber to be released', () => server.hub!.subscriberCount() === 1, 2000)
      const again = await ctx.connect(server, topic)
      if (again.status !== 200)
        problems.push(`after a slot freed up, a new subscriber got ${again.status}, expected 200`)
    }
    {
      const server = await ctx.server({ maxSubscribersPerClient: 1 })
      const topic = ctx.topic('limit-client')
      await ctx.connect(server, topic)
      await waitUntil('one subscriber', () => server.hub!.subscriberCount() === 1, 5000)
      problems.push(
        ...(await expectRefusal(
          ctx,
          urlWithTopic(server.eventsUrl, topic),
          429,
          'second subscriber from one client',
        )),
      )
    }
    assertNone(problems)
  },
}

/** Check 9: a refused `authorize` answers 401 / 403 before any stream. */
export const limitsAuthorize: ConformanceCase = {
  id: 'limits.authorize',
  profile: 'sse',
  title: 'a refused authorize gets 401 (no credentials) or 403 (bad credentials) before any stream',
  needs: ['auth'],
  async run(ctx) {
    const server = await ctx.server()
    const url = urlWithTopic(server.authUrl!, ctx.topic('auth'))
    const problems = [
      ...(await expectRefusal(ctx, url, 401, 'no Authorization header', {}, false)),
      ...(await expectRefusal(
        ctx,
        url,
        403,
        'Authorization: Bearer invalid',
        { authorization: 'Bearer invalid' },
        false,
      )),
    ]
    if (server.hub && server.hub.subscriberCount() !== 0) problems.push('a refused client was subscribed')
    assertNone(problems)
  },
}
