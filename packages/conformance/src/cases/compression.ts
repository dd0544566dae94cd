// Check 2: behind compression middleware, every event is decodable as soon as it is published: either
// the response is not compressed (Cache-Control: no-transform) or the compressor flushes per event.

import type { SseStream } from '../sse.js'
import type { CaseContext, ConformanceCase } from '../target.js'
import { ACCEPT_ALL_ENCODINGS, firstDifference } from './util.js'

/** Each event decodable within this many milliseconds of its publish. */
export const EVENT_WITHIN_MS = 100
// Past this, the event is not late but stuck in a buffer: fail at once, without a retry (only a slow
// event, which a loaded machine can explain, is measured again).
const STUCK_MS = 2000
const EVENTS = 5

async function measure(ctx: CaseContext): Promise<number[]> {
  const server = await ctx.server()
  // One stream on two topics (`?topic=a&topic=b`), the events alternating between them.
  const topics = [ctx.topic(), ctx.topic()]
  const stream = await ctx.connect(server, topics, { headers: ACCEPT_ALL_ENCODINGS })
  const coding = stream.headers['content-encoding'] ?? 'none'
  const latencies: number[] = []
  try {
    for (let i = 0; i < EVENTS; i++) {
      const data = `compression ${i} ${'x'.repeat(i * 40)}`
      const topic = topics[i % 2]!
      // The moment of publishing: the hub call itself when the suite holds the hub, else the POST.
      const bytesBefore = stream.bytes
      const sent = performance.now()
      // The hub's publish is not awaited before the event is waited for (a shared broker would add its
      // round trip to what is timed), but its rejection (a broker outage) is kept for the reason.
      let refused: Error | undefined
      let publishing: Promise<void> | undefined
      if (server.hub) {
        publishing = server.hub.publish(topic, { data }).then(
          () => {},
          (error: unknown) => {
            refused = error instanceof Error ? error : new Error(String(error))
          },
        )
      } else await ctx.publish(server, topic, { data })
      const event = await stream
        .waitFor(`event ${i + 1}`, () => stream.events.find((e) => e.data === data), STUCK_MS)
        .catch(() => {
          if (refused) throw publishRefused(i, refused)
          throw new Error(stuckReason(stream, i, data, coding, sent, bytesBefore))
        })
      await publishing
      if (refused) throw publishRefused(i, refused)
      latencies.push(event.at - sent)
    }
  } finally {
    stream.close()
  }
  const worst = Math.max(...latencies)
  if (worst > EVENT_WITHIN_MS) {
    throw Object.assign(
      new Error(
        `an event took ${worst.toFixed(0)} ms from publish to decodable (limit ${EVENT_WITHIN_MS} ms, ` +
          `Content-Encoding: ${coding}): ${latencies.map((l) => l.toFixed(0)).join(', ')} ms`,
      ),
      { slow: true },
    )
  }
  ctx.note(
    `Content-Encoding: ${coding}; publish → decoded event ${latencies.map((l) => l.toFixed(1)).join(', ')} ms`,
  )
  return latencies
}

function publishRefused(i: number, error: Error): Error {
  return new Error(`event ${i + 1} of ${EVENTS}: hub.publish rejected (${error.name}: ${error.message})`)
}

// Why event `i` never showed up as published, in the words of what was seen: an event that arrived with
// other data is a mismatch (not buffering); bytes that arrived but never made an event point at framing;
// nothing at all behind a compressor is the compressor holding it.
function stuckReason(
  stream: SseStream,
  i: number,
  data: string,
  coding: string,
  sent: number,
  bytesBefore: number,
): string {
  const what = `event ${i + 1} of ${EVENTS}`
  // The last event that arrived after the publish (not a greeting sent with the head).
  const other = stream.events.filter((e) => e.at >= sent).at(-1)
  if (other !== undefined) {
    return `${what} arrived within ${STUCK_MS} ms but its data differs from what was published (${firstDifference(other.data, data)}): the server changes the data (e.g. JSON-encodes it); send it as is`
  }
  const bytes = stream.bytes - bytesBefore
  if (bytes > 0) {
    return `${what}: ${bytes} decoded bytes arrived within ${STUCK_MS} ms but made no complete event (Content-Encoding: ${coding}): the frame is not ended by a blank line yet`
  }
  if (coding !== 'none') {
    return `${what} was not decodable ${STUCK_MS} ms after publish (Content-Encoding: ${coding}, ${stream.bytes} decoded bytes so far): the compressor buffers the stream; send Cache-Control: no-transform or flush after every event`
  }
  return `${what}: nothing arrived within ${STUCK_MS} ms of publish (Content-Encoding: none): the server holds the event, or a proxy buffers it (send X-Accel-Buffering: no)`
}

/** Check 2: every event is decodable within 100 ms of publish, behind compression. */
export const compressionPerEvent: ConformanceCase = {
  id: 'compression.per-event',
  profile: 'sse',
  title: `with Accept-Encoding: gzip, deflate, br, zstd each event is decodable within ${EVENT_WITHIN_MS} ms`,
  needs: ['publish'],
  async run(ctx) {
    // A stuck event is a verdict; a slow one may be a loaded machine, so the best of three attempts counts.
    for (let attempt = 1; ; attempt++) {
      try {
        await measure(ctx)
        return
      } catch (error) {
        if (!(error as { slow?: boolean }).slow || attempt === 3) throw error
        ctx.note(`attempt ${attempt}: ${(error as Error).message}`)
      }
    }
  },
}
