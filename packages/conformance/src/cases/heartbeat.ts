// Check 6: an idle stream carries `:` comments at the configured interval, also behind compression
// (a heartbeat stuck in a compressor keeps nothing alive).
import type { SseStream } from '../sse.js'
import type { CaseContext, ConformanceCase } from '../target.js'
import { ACCEPT_ALL_ENCODINGS, assertNone, withOneRetry } from './util.js'

/** The interval the check configures. */
export const HEARTBEAT_MS = 200
const COUNT = 4

// The first comment may be an opening one sent with the headers (some servers need a first write), so
// gaps are measured between the comments after it.
function heartbeatGaps(stream: SseStream): number[] {
  const times = stream.comments.slice(1, COUNT + 1).map((c) => c.at)
  return times.slice(1).map((t, i) => t - times[i]!)
}

function gapProblems(stream: SseStream, label: string, interval: number): string[] {
  const gaps = heartbeatGaps(stream)
  const problems: string[] = []
  // A shared timer may skip a beat for a stream that just saw traffic, and a loaded machine adds delay,
  // but a gap of three intervals, or half of one, is a wrong interval (or a heartbeat held in a buffer).
  for (const gap of gaps) {
    if (gap > interval * 3 || gap < interval / 2) {
      problems.push(
        `${label}: heartbeats ${gaps.map((g) => g.toFixed(0)).join(', ')} ms apart (interval ${interval} ms)`,
      )
      break
    }
  }
  // Events after the first heartbeat are heartbeats read as events (a greeting on connect comes before).
  const late = stream.events.filter((e) => e.at > stream.comments[1]!.at).length
  if (late > 0) problems.push(`${label}: heartbeats were dispatched as events (${late})`)
  return problems
}

async function attempt(ctx: CaseContext, interval: number): Promise<void> {
  const server = await ctx.server(ctx.configurable ? { heartbeatMs: interval } : undefined)
  const plain = await ctx.connect(server, ctx.topic('heartbeat-plain'))
  const compressed = await ctx.connect(server, ctx.topic('heartbeat-compressed'), {
    headers: ACCEPT_ALL_ENCODINGS,
  })
  const within = interval * (COUNT + 3) + 1000
  for (const [stream, label] of [
    [plain, 'plain'],
    [compressed, 'with Accept-Encoding'],
  ] as const) {
    await stream
      .waitFor(`${COUNT} heartbeats (${label})`, () => stream.comments.length >= COUNT + 1, within)
      .catch((error: Error) => {
        throw new Error(
          `${error.message}: got ${stream.comments.length} (Content-Encoding: ${stream.headers['content-encoding'] ?? 'none'})`,
        )
      })
  }
  assertNone([
    ...gapProblems(plain, 'plain', interval),
    ...gapProblems(compressed, 'with Accept-Encoding', interval),
  ])
  ctx.note(
    `heartbeat gaps ${heartbeatGaps(plain)
      .map((g) => g.toFixed(0))
      .join(', ')} ms (plain)`,
  )
}

/** Check 6: comments at the configured interval on an idle stream, behind compression too. */
export const heartbeatIdle: ConformanceCase = {
  id: 'heartbeat.idle',
  profile: 'sse',
  title:
    'an idle stream gets comments at the configured interval (200 ms under vitest), behind compression too',
  // Under vitest the suite sets the interval; against a running server, `--heartbeat-ms` says what it is.
  needs: [],
  run(ctx) {
    const interval =
      (ctx.configurable ? HEARTBEAT_MS : ctx.settings.heartbeatMs) ??
      ctx.skip("needs the server's heartbeat interval (--heartbeat-ms)")
    return withOneRetry(ctx.note, () => attempt(ctx, interval))
  },
}
