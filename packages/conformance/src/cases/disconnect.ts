// Check 7: a client that goes away is released within a second (subscriber count back down, nothing
// written to it after), and the server prints nothing about it: a disconnect is normal, not an error.

import { waitUntil } from '../sse.js'
import type { ConformanceCase } from '../target.js'
import { ACCEPT_ALL_ENCODINGS, assertNone, sleep } from './util.js'

/** A departed client is released within this many milliseconds. */
export const RELEASE_WITHIN_MS = 1000

/** Check 7: a departed client is released within 1 s, silently. */
export const disconnectRelease: ConformanceCase = {
  id: 'disconnect.release',
  profile: 'sse',
  title: `a client that disconnects is released within ${RELEASE_WITHIN_MS} ms, with no error output`,
  needs: ['hub'],
  async run(ctx) {
    const server = await ctx.server({ heartbeatMs: 100 })
    const hub = server.hub!
    const releases: number[] = []
    const variants = [
      { label: 'idle stream', headers: {}, events: 0 },
      { label: 'compressed stream after events', headers: ACCEPT_ALL_ENCODINGS, events: 3 },
      { label: 'stream with two topics', headers: {}, events: 1, topics: 2 },
    ]
    for (const variant of variants) {
      const topics = Array.from({ length: variant.topics ?? 1 }, () => ctx.topic('disconnect'))
      const stream = await ctx.connect(server, topics, { headers: variant.headers })
      await waitUntil(
        `the ${variant.label} to be subscribed`,
        () => hub.subscriberCount(topics[0]) === 1,
        5000,
      )
      for (let i = 0; i < variant.events; i++) await hub.publish(topics, { data: `before ${i}` })
      await stream.waitForEvents(variant.events, 5000)
      const closedAt = performance.now()
      stream.close()
      await waitUntil(
        `the ${variant.label} to be released`,
        () => topics.every((t) => hub.subscriberCount(t) === 0),
        RELEASE_WITHIN_MS,
      ).catch(() => {
        throw new Error(
          `${variant.label}: still subscribed ${RELEASE_WITHIN_MS} ms after the client disconnected ` +
            `(subscriberCount ${topics.map((t) => hub.subscriberCount(t)).join('/')})`,
        )
      })
      releases.push(performance.now() - closedAt)
    }
    // Nothing is written for departed clients: no events, no heartbeats (their timers are gone).
    const before = hub.metrics()
    for (const variant of variants)
      await hub.publish(ctx.topic('disconnect-after'), { data: `after ${variant.label}` })
    await sleep(350)
    const after = hub.metrics()
    const problems: string[] = []
    if (hub.subscriberCount() !== 0)
      problems.push(`the hub still counts ${hub.subscriberCount()} subscriber(s)`)
    if (after.delivered !== before.delivered)
      problems.push(`${after.delivered - before.delivered} frame(s) written after every client left`)
    if (after.heartbeats !== before.heartbeats)
      problems.push(`${after.heartbeats - before.heartbeats} heartbeat(s) written after every client left`)
    problems.push(...ctx.errorOutput().map((line) => `the server printed ${line}`))
    assertNone(problems)
    ctx.note(`released after ${releases.map((r) => r.toFixed(0)).join(', ')} ms`)
  },
}
