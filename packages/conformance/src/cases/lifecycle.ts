// Shutting down: the `close()` a started app returns must not wait for its event streams to end by
// themselves (they never do), and must end them. Needs the suite to start the server (vitest only).
import { waitUntil } from '../sse.js'
import type { ConformanceCase } from '../target.js'
import { assertNone } from './util.js'

/** How long `close()` may take with a stream open. */
export const CLOSE_WITHIN_MS = 2000

/** `close()` resolves promptly with streams open, and the open streams end. */
export const lifecycleClose: ConformanceCase = {
  id: 'lifecycle.close',
  profile: 'herald-app',
  title: `close() resolves within ${CLOSE_WITHIN_MS} ms while streams are open, and ends them`,
  needs: ['hub'],
  async run(ctx) {
    const server = await ctx.server()
    const hub = server.hub!
    const topic = ctx.topic()
    const streams = await Promise.all([ctx.connect(server, topic), ctx.connect(server, topic)])
    await streams[0].waitFor('both subscribers', () => hub.subscriberCount(topic) === 2, 5000)
    const started = performance.now()
    let timer: NodeJS.Timeout | undefined
    const closed = await Promise.race([
      server.close().then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), CLOSE_WITHIN_MS)
      }),
    ]).finally(() => clearTimeout(timer))
    const closeMs = performance.now() - started
    const problems: string[] = []
    if (!closed) {
      problems.push(
        `close() had not resolved ${CLOSE_WITHIN_MS} ms after it was called with ${streams.length} streams ` +
          'open: it waits for streams that never end by themselves; end them (e.g. hub.close()) first',
      )
    }
    // Once close() resolved the streams must be over; if it hung, give them the same time to end at all.
    const ended = await waitUntil(
      'the open streams to end',
      () => streams.every((s) => s.ended),
      closed ? 1000 : CLOSE_WITHIN_MS,
    )
      .then(() => true)
      .catch(() => false)
    if (!ended) {
      problems.push(
        `${streams.filter((s) => !s.ended).length} of ${streams.length} open streams did not end after close()`,
      )
    }
    if (hub.subscriberCount(topic) !== 0) {
      problems.push(`${hub.subscriberCount(topic)} subscriber(s) still registered after close()`)
    }
    assertNone(problems)
    ctx.note(`close() took ${closeMs.toFixed(0)} ms`)
  },
}
