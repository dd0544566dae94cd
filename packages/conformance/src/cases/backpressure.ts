// Checks 4 and 8: fan-out under load. A burst reaches many clients complete and in order, and a client
// that stops reading meets the configured slow-consumer policy without slowing anyone else down.
import type { SlowConsumerPolicy } from '@herald/sse-core'
import { type SseStream, waitUntil } from '../sse.js'
import type { CaseContext, ConformanceCase, ServerUnderTest } from '../target.js'
import { assertNone, show, sleep } from './util.js'

/** Clients listening to the burst (its size is `ctx.settings.burstEvents`, 10 000 by default). */
export const BURST_CLIENTS = 50

/** Check 4: a burst reaches every client complete and in order (see the title). */
export const backpressureBurst: ConformanceCase = {
  id: 'backpressure.burst',
  profile: 'sse',
  title: `a burst of events (10,000 under vitest, 2,000 from the CLI) arrives complete and in order at ${BURST_CLIENTS} clients`,
  needs: ['publish'],
  async run(ctx) {
    const server = await ctx.server()
    const topic = ctx.topic('burst')
    const count = ctx.settings.burstEvents
    const clients: SseStream[] = []
    // Only the burst counts (a server may greet each client with an event of its own); what else
    // arrives is kept apart, so that a burst that arrived altered is told from one that never came.
    const accept = (e: { data: string }) => /^b\d+$/.test(e.data)
    for (let i = 0; i < BURST_CLIENTS; i++) clients.push(await ctx.connect(server, topic, { accept }))
    // What each client got before the burst (greetings) is not part of it.
    await sleep(50)
    const greetings = clients.map((c) => c.ignored.length)
    const started = performance.now()
    ctx.note(`a burst of ${count} events`)
    let ids: (string | undefined)[] = []
    // Over HTTP, publishes overlap, so the server's order is only partly known (see publishConcurrently).
    let order: PublishTimes | undefined
    if (server.hub) {
      await waitUntil(
        'every client to be subscribed',
        () => server.hub!.subscriberCount(topic) === BURST_CLIENTS,
        5000,
      )
      // One synchronous loop: the hardest burst there is, nothing interleaves with it.
      const pending: Promise<string>[] = []
      for (let i = 0; i < count; i++) pending.push(server.hub.publish(topic, { data: `b${i}` }))
      ids = await Promise.all(pending)
    } else {
      order = await publishConcurrently(ctx, server, topic, ids, count)
    }
    const published = performance.now()
    const arrived = (c: SseStream, n: number) => c.events.length + c.ignored.length - greetings[n]!
    await waitForProgress(
      () => clients.every((c) => c.events.length >= count || c.ended || c.error),
      () => clients.reduce((sum, c, n) => sum + arrived(c, n), 0),
    ).catch((error: Error) => {
      const got = clients.map(arrived)
      const matched = clients.map((c) => c.events.length)
      const stray = clients.flatMap((c, n) => c.ignored.slice(greetings[n])).at(0)
      throw new Error(
        `${error.message}: of ${count} events, clients received between ${Math.min(...got)} and ${Math.max(...got)}, ` +
          `of which between ${Math.min(...matched)} and ${Math.max(...matched)} matched what was published` +
          (stray
            ? ` (one that did not: data ${show(stray.data, 30)}, published as "b<n>": the data arrives altered)`
            : ''),
      )
    })
    const withIds = ids.length === count && ids.every((id) => id !== undefined)
    if (!withIds)
      ctx.note('POST /publish answered without ids: order and completeness checked, ids not compared')
    const problems = clients
      .map((client, n) =>
        order ? overlapProblem(client, clients[0]!, ids, withIds, order, n) : burstProblem(client, ids, n),
      )
      .filter((p): p is string => p !== undefined)
    assertNone(problems.slice(0, 4), problems.length > 4 ? `${problems.length} clients wrong, first: ` : '')
    ctx.note(
      `published in ${(published - started).toFixed(0)} ms, all delivered after ${(performance.now() - started).toFixed(0)} ms`,
    )
  },
}

// Waits until `done()`, failing once `progress()` (events arrived so far) has not moved for STALL_MS:
// a burst still flowing is given time, one that stopped is a verdict, not a 30 s wait.
const STALL_MS = 3000
async function waitForProgress(done: () => boolean, progress: () => number): Promise<void> {
  let last = progress()
  let since = performance.now()
  const deadline = since + 60_000
  while (!done()) {
    if (performance.now() > deadline) throw new Error('still arriving after 60 s')
    await sleep(20)
    const now = progress()
    if (now !== last) {
      last = now
      since = performance.now()
    } else if (performance.now() - since > STALL_MS) {
      throw new Error(`nothing more arrived for ${STALL_MS / 1000} s`)
    }
  }
}

interface PublishTimes {
  sentAt: number[]
  doneAt: number[]
}

const CONCURRENCY = 16

// POSTs the burst with a few requests in flight (one at a time takes half a minute), recording when each
// was sent and answered.
async function publishConcurrently(
  ctx: CaseContext,
  server: ServerUnderTest,
  topic: string,
  ids: (string | undefined)[],
  count: number,
): Promise<PublishTimes> {
  const sentAt: number[] = []
  const doneAt: number[] = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      sentAt[i] = performance.now()
      ids[i] = await ctx.publish(server, topic, { data: `b${i}` })
      doneAt[i] = performance.now()
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return { sentAt, doneAt }
}

// For an overlapped burst: complete, no duplicates, every client in the same order, and that order
// respects causality (an event answered before another was sent comes first).
function overlapProblem(
  client: SseStream,
  first: SseStream,
  ids: readonly (string | undefined)[],
  withIds: boolean,
  times: PublishTimes,
  n: number,
): string | undefined {
  if (client.error) return `client ${n}: ${client.error.message}`
  if (client.events.length !== ids.length) {
    return `client ${n}: got ${client.events.length} of ${ids.length} events`
  }
  const position = new Map<string, number>()
  for (const [p, e] of client.events.entries()) position.set(e.data, p)
  if (position.size !== ids.length) return `client ${n}: ${ids.length - position.size} duplicate event(s)`
  for (let p = 0; p < ids.length; p++) {
    const e = client.events[p]!
    if (e.data !== first.events[p]!.data)
      return `client ${n} and client 0 got events in different orders (at ${p})`
    const i = Number(e.data.slice(1))
    if (withIds && ids[i] !== e.id)
      return `client ${n}: event ${e.data} has id ${show(e.id)}, /publish said ${show(ids[i])}`
  }
  const byDone = [...times.doneAt.keys()].sort((a, b) => times.doneAt[a]! - times.doneAt[b]!)
  let k = 0
  let latest = -1
  let latestEvent = -1
  for (let b = 0; b < ids.length; b++) {
    while (k < byDone.length && times.doneAt[byDone[k]!]! < times.sentAt[b]!) {
      const a = byDone[k++]!
      const p = position.get(`b${a}`)!
      if (p > latest) {
        latest = p
        latestEvent = a
      }
    }
    if (position.get(`b${b}`)! < latest) {
      return `client ${n}: b${b} arrived before b${latestEvent}, which was published (answered) before b${b} was sent`
    }
  }
  return undefined
}

// What is wrong with one client's burst, if anything.
function burstProblem(
  client: SseStream,
  ids: readonly (string | undefined)[],
  n: number,
): string | undefined {
  if (client.error) return `client ${n}: ${client.error.message}`
  if (client.events.length < ids.length) {
    return `client ${n}: the stream ended after ${client.events.length} of ${ids.length} events`
  }
  for (let i = 0; i < ids.length; i++) {
    const e = client.events[i]!
    if (e.data !== `b${i}` || e.id !== ids[i]) {
      return `client ${n}: event ${i} is ${show(e.data)} (id ${show(e.id)}), expected "b${i}" (id ${show(ids[i])})`
    }
  }
  if (client.events.length > ids.length)
    return `client ${n}: ${client.events.length - ids.length} extra event(s)`
  return undefined
}

const BUDGET = 64 * 1024
const EVENT_BYTES = 8 * 1024
// Enough to fill the kernel's socket buffers (several MB on loopback) and then the budget.
const MAX_EVENTS = 3000

async function slowConsumer(ctx: CaseContext, policy: SlowConsumerPolicy): Promise<string> {
  const server = await ctx.server({
    budgetBytes: BUDGET,
    slowConsumer: policy,
    drainTimeoutMs: 30_000,
    heartbeatMs: 0,
  })
  const hub = server.hub!
  const topic = ctx.topic(`slow-${policy}`)
  const accept = (e: { data: string }) => /^\d+ /.test(e.data) || e.data.startsWith('final ')
  const good = await ctx.connect(server, topic, { accept })
  const stalled = await ctx.connect(server, topic, { stalled: true, accept })
  await waitUntil('both clients to be subscribed', () => hub.subscriberCount(topic) === 2, 5000)
  const payload = 'x'.repeat(EVENT_BYTES)
  const start = hub.metrics()
  const hit = () => {
    const m = hub.metrics()
    if (policy === 'disconnect') return hub.subscriberCount(topic) < 2
    if (policy === 'drop-oldest') return m.dropped > start.dropped
    return m.coalesced > start.coalesced
  }
  let sent = 0
  while (!hit()) {
    if (sent >= MAX_EVENTS) {
      throw new Error(
        `${policy}: after ${sent} events of ${EVENT_BYTES / 1024} KiB to a client that reads nothing ` +
          `(budget ${BUDGET / 1024} KiB) the policy never acted`,
      )
    }
    // Awaited: the reading client's events are checked in order, and a rejection fails the check.
    await hub.publish(topic, { data: `${sent} ${payload}` })
    sent++
    // Keep the reading client current, so only the stalled one can fall behind.
    // (Its in-flight bytes stay well under the budget: over HTTP/2 a 64 KiB window is all it has.)
    if (sent - good.events.length > 3) {
      await good
        .waitFor('the reading client to keep up', () => sent - good.events.length <= 1, 10_000)
        .catch(() => {
          throw new Error(
            `${policy}: the reading client stalled too (${good.events.length} of ${sent} events)`,
          )
        })
    } else {
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  const final = `final ${policy}`
  await hub.publish(topic, { data: final })
  sent++
  await good
    .waitFor('the reading client to get everything', () => good.events.length >= sent, 10_000)
    .catch(() => {
      throw new Error(`${policy}: the reading client got ${good.events.length} of ${sent} events`)
    })
  const problems: string[] = []
  const notes: string[] = []
  good.events.forEach((e, i) => {
    if (problems.length === 0 && !e.data.startsWith(i === sent - 1 ? final : `${i} `)) {
      problems.push(`${policy}: the reading client's event ${i} is ${show(e.data, 20)}`)
    }
  })
  if (good.ended) problems.push(`${policy}: the reading client's stream ended`)

  stalled.resume()
  if (policy === 'disconnect') {
    await stalled
      .waitFor('the slow client’s stream to end', () => stalled.ended, 10_000)
      .catch(() => {
        throw new Error(`${policy}: the slow client was unsubscribed but its stream never ended`)
      })
    const farewell = stalled.ignored.find((e) => e.event === 'slow-consumer')
    notes.push(
      farewell
        ? 'the slow client got the slow-consumer event before the end'
        : 'no farewell event reached it',
    )
    if (hub.metrics().slowConsumerDisconnects <= start.slowConsumerDisconnects) {
      problems.push(`${policy}: metrics().slowConsumerDisconnects did not count it`)
    }
  } else {
    await stalled
      .waitFor(
        'the slow client to catch up to the last event',
        () => stalled.events.at(-1)?.data === final,
        10_000,
      )
      .catch(() => {
        throw new Error(
          `${policy}: once reading again the slow client never got the last event (${stalled.events.length} events)`,
        )
      })
    const numbers = stalled.events.filter((e) => /^\d+ /.test(e.data)).map((e) => Number.parseInt(e.data, 10))
    if (numbers.some((n, i) => i > 0 && n <= numbers[i - 1]!))
      problems.push(`${policy}: the slow client got events out of order`)
    if (numbers.length >= sent - 1)
      problems.push(`${policy}: the slow client got every event; nothing was shed`)
    if (
      policy === 'drop-oldest' &&
      ![...stalled.events, ...stalled.ignored].some((e) => e.event !== undefined && e.event !== 'message')
    ) {
      problems.push(`${policy}: no gap notice among the events the slow client got`)
    }
    if (stalled.ended) problems.push(`${policy}: the slow client's stream ended`)
  }
  assertNone(problems)
  return `${policy}: ${notes.join('; ')}${notes.length ? '; ' : ''}acted after ${sent - 1} events (${(((sent - 1) * EVENT_BYTES) / 1048576).toFixed(1)} MiB)`
}

/** Check 8: each slow-consumer policy acts on a client that stops reading, and only on it. */
export const backpressureSlowConsumer: ConformanceCase = {
  id: 'backpressure.slow-consumer',
  profile: 'sse',
  title: 'a client that stops reading meets each slow-consumer policy; the reading client is unaffected',
  needs: ['hub'],
  async run(ctx) {
    for (const policy of ['disconnect', 'drop-oldest', 'latest'] as const)
      ctx.note(await slowConsumer(ctx, policy))
    await sleep(0)
  },
}
