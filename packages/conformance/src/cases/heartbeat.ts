// Check 6: an idle stream carries `:` comments at the configured interval, also behind compression
// (a heartbeat stuck in a compressor keeps nothing alive).
import type { SseStream } from '../sse.js'
import type { CaseContext, ConformanceCase } from '../target.js'
import { ACCEPT_ALL_ENCODINGS, assertNone, withOneRetry } from './util.js'

/** The interval the check configures. */
export const HEARTBEAT_MS = 200
const COUNT = 4

function gapProblems(stream: SseStream, label: string): string[] {
  const times = [stream.comments[0]!.at, ...stream.comments.slice(1, COUNT).map((c) => c.at)]
  const gaps = times.slice(1).map((t, i) => t - times[i]!)
  const problems: string[] = []
  // A shared timer may skip a beat for a stream that just saw traffic, and a loaded machine adds delay,
  // but a gap of three intervals, or half of one, is a wrong interval (or a heartbeat held in a buffer).
  for (const gap of gaps) {
    if (gap > HEARTBEAT_MS * 3 || gap < HEARTBEAT_MS / 2) {
      problems.push(
        `${label}: heartbeats ${gaps.map((g) => g.toFixed(0)).join(', ')} ms apart (interval ${HEARTBEAT_MS} ms)`,
      )
      break
    }
  }
  // Events after the first heartbeat are heartbeats read as events (a greeting on connect comes before).
  const late = stream.events.filter((e) => e.at > stream.comments[0]!.at).length
  if (late > 0) problems.push(`${label}: heartbeats were dispatched as events (${late})`)
  return problems
}

async function attempt(ctx: CaseContext): Promise<void> {
  const server = await ctx.server({ heartbeatMs: HEARTBEAT_MS })
  const plain = await ctx.connect(server, ctx.topic('heartbeat-plain'))
  const compressed = await ctx.connect(server, ctx.topic('heartbeat-compressed'), {
    headers: ACCEPT_ALL_ENCODINGS,
  })
  const within = HEARTBEAT_MS * (COUNT + 2) + 1000
  for (const [stream, label] of [
    [plain, 'plain'],
    [compressed, 'with Accept-Encoding'],
  ] as const) {
    await stream
      .waitFor(`${COUNT} heartbeats (${label})`, () => stream.comments.length >= COUNT, within)
      .catch((error: Error) => {
        throw new Error(
          `${error.message}: got ${stream.comments.length} (Content-Encoding: ${stream.headers['content-encoding'] ?? 'none'})`,
        )
      })
  }
  assertNone([...gapProblems(plain, 'plain'), ...gapProblems(compressed, 'with Accept-Encoding')])
  const gaps = plain.comments.slice(1, COUNT).map((c, i) => (c.at - plain.comments[i]!.at).toFixed(0))
  ctx.note(`heartbeat gaps ${gaps.join(', ')} ms (plain)`)
}

/** Check 6: comments at the configured interval on an idle stream, behind compression too. */
export const heartbeatIdle: ConformanceCase = {
  id: 'heartbeat.idle',
  title: `an idle stream gets a comment every ${HEARTBEAT_MS} ms as configured, behind compression too`,
  needs: ['hub'],
  run: (ctx) => withOneRetry(ctx.note, () => attempt(ctx)),
}
