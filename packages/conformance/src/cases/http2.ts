// HTTP/2 specifics: many streams share one connection, each gets only its own topics, and cancelling
// one stream (what a browser does on close) releases it while the others keep flowing.
import { waitUntil } from '../sse.js'
import type { ConformanceCase } from '../target.js'
import { assertNone, sleep } from './util.js'

/** HTTP/2: streams on one connection stay separate and are released one by one. */
export const http2Multiplex: ConformanceCase = {
  id: 'http2.multiplex',
  profile: 'sse',
  title: 'streams multiplexed on one h2c connection stay separate; cancelling one releases only it',
  needs: ['h2', 'publish'],
  async run(ctx) {
    const server = await ctx.server()
    const [a, b] = [ctx.topic('h2-a'), ctx.topic('h2-b')]
    const onA = await ctx.connect(server, a, { shared: true })
    const onB = await ctx.connect(server, b, { shared: true })
    const onBoth = await ctx.connect(server, [a, b], { shared: true })
    if (server.hub) await waitUntil('three subscribers', () => server.hub!.subscriberCount() === 3, 5000)
    await ctx.publish(server, a, { data: 'to a' })
    await ctx.publish(server, b, { data: 'to b' })
    await onBoth.waitForEvents(2, 5000, 'both events on the stream with two topics')
    await onA.waitForEvents(1, 5000)
    await onB.waitForEvents(1, 5000)
    onA.close()
    if (server.hub) {
      await waitUntil(
        'the cancelled stream to be released',
        () => server.hub!.subscriberCount() === 2,
        1000,
      ).catch(() => {
        throw new Error(
          `still ${server.hub!.subscriberCount()} subscribers 1 s after one h2 stream was cancelled`,
        )
      })
    }
    await ctx.publish(server, a, { data: 'to a again' })
    await onBoth.waitForEvents(3, 5000, 'an event after a sibling stream was cancelled')
    await sleep(50)
    const problems: string[] = []
    const datas = (s: typeof onA) => s.events.map((e) => e.data).join(', ')
    if (datas(onA) !== 'to a') problems.push(`stream on a got: ${datas(onA)}`)
    if (datas(onB) !== 'to b') problems.push(`stream on b got: ${datas(onB)}`)
    if (datas(onBoth) !== 'to a, to b, to a again') problems.push(`stream on a and b got: ${datas(onBoth)}`)
    if (onBoth.ended || onB.ended) problems.push('cancelling one stream ended its siblings')
    problems.push(...ctx.errorOutput().map((line) => `the server printed ${line}`))
    assertNone(problems)
  },
}
