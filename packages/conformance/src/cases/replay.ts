// Check 5: a client that comes back with Last-Event-ID (header or `lastEventId` query parameter) gets
// exactly what it missed, then live events, with nothing lost or doubled in between; an id the server
// cannot replay from gets the reset event.
import type { SseStream } from '../sse.js'
import type { CaseContext, ConformanceCase } from '../target.js'
import { assertNone, own, show, sleep } from './util.js'

/** The event name the convention sends when a Last-Event-ID cannot be replayed exactly. */
export const RESET_EVENT = 'reset'

async function missedThenLive(ctx: CaseContext, via: 'header' | 'query'): Promise<void> {
  const server = await ctx.server()
  const topic = ctx.topic(`replay-${via}`)
  const mark = `${via}-`
  const ids: (string | undefined)[] = []
  for (let i = 1; i <= 5; i++) {
    const id = await ctx.publish(server, topic, { data: `${mark}${i}` })
    ids.push(ctx.requireId(id, 'replay from Last-Event-ID'))
  }
  const lastSeen = ids[1]!
  const stream = await ctx.connect(
    server,
    topic,
    via === 'header' ? { headers: { 'last-event-id': lastSeen } } : { query: { lastEventId: lastSeen } },
  )
  // Published while the replay may still be running: it must come once, after the replayed ones.
  ids.push(await ctx.publish(server, topic, { data: `${mark}6` }))
  await stream
    .waitFor(
      `events 3 to 6 after reconnecting from event 2 (via ${via})`,
      () => own(stream, mark).length >= 4,
      5000,
    )
    .catch((error: Error) => {
      throw new Error(`${error.message}; received ${describe(stream)}`)
    })
  ids.push(await ctx.publish(server, topic, { data: `${mark}7` }))
  await stream
    .waitFor('live event 7', () => own(stream, mark).length >= 5, 5000)
    .catch((error: Error) => {
      throw new Error(`${error.message}; received ${describe(stream)}`)
    })
  await sleep(100) // anything doubled would arrive now
  const got = own(stream, mark)
  const problems: string[] = []
  const expected = [3, 4, 5, 6, 7].map((n) => `${mark}${n}`)
  if (got.map((e) => e.data).join() !== expected.join()) {
    problems.push(`received ${got.map((e) => e.data).join(', ')}; expected ${expected.join(', ')}`)
  }
  got.forEach((e, i) => {
    if (e.id !== ids[i + 2])
      problems.push(`event ${e.data} has id ${show(e.id)}, /publish said ${show(ids[i + 2])}`)
  })
  const reset = stream.events.find((e) => e.event === RESET_EVENT)
  if (reset) problems.push(`a "${RESET_EVENT}" event came although the id was in history`)
  assertNone(problems, `Last-Event-ID via ${via}: `)
}

function describe(stream: SseStream): string {
  return stream.events.map((e) => `${e.event ?? 'message'}:${show(e.data, 20)}`).join(', ') || 'nothing'
}

/** Check 5 via the `Last-Event-ID` header. */
export const replayHeader: ConformanceCase = {
  id: 'replay.header',
  profile: 'sse',
  title: 'Last-Event-ID header: exactly the missed events, then live ones',
  needs: ['publish'],
  run: (ctx) => missedThenLive(ctx, 'header'),
}

/** Check 5 via the `lastEventId` query parameter. */
export const replayQuery: ConformanceCase = {
  id: 'replay.query',
  profile: 'sse',
  title: 'lastEventId query parameter: exactly the missed events, then live ones',
  needs: ['publish'],
  run: (ctx) => missedThenLive(ctx, 'query'),
}

async function expectReset(
  ctx: CaseContext,
  stream: SseStream,
  topic: string,
  server: Parameters<CaseContext['publish']>[0],
  why: string,
) {
  await stream
    .waitFor(
      `a "${RESET_EVENT}" event for ${why}`,
      () => stream.events.find((e) => e.event === RESET_EVENT),
      5000,
    )
    .catch((error: Error) => {
      throw new Error(`${error.message}; received ${describe(stream)}`)
    })
  const live = `live after reset ${topic}`
  await ctx.publish(server, topic, { data: live })
  await stream.waitFor('a live event after the reset', () => stream.events.some((e) => e.data === live), 5000)
  const resetAt = stream.events.findIndex((e) => e.event === RESET_EVENT)
  const before = stream.events.slice(0, resetAt).filter((e) => e.data.startsWith('old-'))
  if (before.length > 0) throw new Error(`${before.length} old event(s) came before the reset event (${why})`)
}

/** Check 5: an id that cannot be replayed gets the reset event. */
export const replayReset: ConformanceCase = {
  id: 'replay.reset',
  profile: 'herald-app',
  title: `an id older than history, or unknown, gets the "${RESET_EVENT}" event, then live ones`,
  needs: ['publish'],
  async run(ctx) {
    // Unknown id: any server following the convention answers it (black-box too).
    {
      const server = await ctx.server()
      const topic = ctx.topic('reset-unknown')
      const stream = await ctx.connect(server, topic, { headers: { 'last-event-id': 'no-such-id-0' } })
      await expectReset(ctx, stream, topic, server, 'an unknown id')
    }
    if (!ctx.configurable) {
      ctx.note('an id older than history needs a hub the suite configures; checked an unknown id only')
      return
    }
    // Older than history: history keeps 3 events, the client saw the first of 8.
    const server = await ctx.server({ history: { maxEvents: 3 } })
    const topic = ctx.topic('reset-old')
    const ids: (string | undefined)[] = []
    for (let i = 1; i <= 8; i++) ids.push(await ctx.publish(server, topic, { data: `old-${i}` }))
    const stream = await ctx.connect(server, topic, { headers: { 'last-event-id': ids[0]! } })
    await expectReset(ctx, stream, topic, server, 'an id older than history')
  },
}
