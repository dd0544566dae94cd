import { TRANSPORTS, useHubServer, waitFor } from '@herald/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HeraldTopicError } from '../errors.js'
import { createWebSink } from '../sink/web.js'
import type { Subscription } from '../types.js'
import { createHub, inspectRegistry } from './hub.js'
import { checkTopics, topicListKey } from './topics.js'

// Characters that joined keys and length prefixes are made of, plus control characters (refused).
const tricky = fc.constantFrom('a', 'b', '1', '2', ':', ',', '|', '\n', '\r', '\0', '\t', '\u007f', 'é')
const topic = fc.string({ unit: tricky, minLength: 1, maxLength: 6 })
const topicList = fc.array(topic, { minLength: 1, maxLength: 4 })
// Few short names, and lists folded into one name the way a joined key would: collisions are likely.
const small = fc.constantFrom('a', 'b', '1:a', ':b', 'a\nb')
const smallList = fc.array(small, { minLength: 1, maxLength: 3 })
const lookalikes = fc.oneof(
  smallList,
  smallList.map((list) => [list.join('\n')]),
  smallList.map((list) => [topicListKey(list)]),
  smallList.map((list) => [...list].reverse()),
)

describe('topic names', () => {
  it('refuses C0 control characters and DEL, naming the rule', () => {
    for (const bad of ['a\nb', 'a\rb', 'nul\0', 'tab\t', 'del\u007f', '\u001b[31m']) {
      expect(() => checkTopics(bad)).toThrow(HeraldTopicError)
      expect(() => checkTopics(['ok', bad])).toThrow(/must not contain control characters/)
    }
    expect(checkTopics(['a:b', 'ü|1', 'a b'])).toEqual(['a:b', 'ü|1', 'a b'])
  })

  it('gives two lists one key only when they are the same list', () => {
    fc.assert(
      fc.property(fc.oneof(topicList, lookalikes), fc.oneof(topicList, lookalikes), (a, b) => {
        const same = a.length === b.length && a.every((t, i) => t === b[i])
        expect(topicListKey(a) === topicListKey(b)).toBe(same)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('the subscriber registry', () => {
  type Step = { kind: 'subscribe'; topics: string[] } | { kind: 'close' | 'gone'; index: number }
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('subscribe' as const), topics: fc.oneof(topicList, lookalikes) }),
    fc.record({ kind: fc.constantFrom('close' as const, 'gone' as const), index: fc.nat() }),
  )

  it('is empty after any sequence of subscribes and unsubscribes, with counts right at every step', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const hub = createHub({ heartbeatMs: 0, history: false })
        const open: { sub: Subscription; abort: () => void; topics: string[] }[] = []
        const seen = new Set<string>()
        for (const s of steps) {
          if (s.kind === 'subscribe') {
            for (const t of s.topics) seen.add(t)
            const { sink } = createWebSink()
            let sub: Subscription
            try {
              sub = hub.subscribe({ sink, topics: s.topics })
            } catch (error) {
              expect(error).toBeInstanceOf(HeraldTopicError)
              continue
            }
            open.push({ sub, abort: () => sink.abort(), topics: [...new Set(s.topics)] })
          } else if (open.length > 0) {
            const [victim] = open.splice(s.index % open.length, 1)
            // `close`: the server ends it; `gone`: the client left (the sink closes under the hub).
            if (s.kind === 'close') victim!.sub.close()
            else victim!.abort()
          }
          for (const t of seen) {
            expect(hub.subscriberCount(t)).toBe(open.filter((o) => o.topics.includes(t)).length)
          }
        }
        for (const o of open) o.sub.close()
        for (const t of seen) expect(hub.subscriberCount(t)).toBe(0)
        expect(inspectRegistry(hub)).toEqual({ subscribers: 0, topics: 0, lists: 0, clients: 0 })
      }),
      { numRuns: 500 },
    )
  })
})

describe.each(TRANSPORTS)('topic lists over the %s sink', (transport) => {
  const served = useHubServer(transport)

  it('leaves nothing behind after many streams on a%0Ab while a&b is open', async () => {
    const hub = await served.serve({ heartbeatMs: 0 })
    const held = await served.open('/?topic=a&topic=b')
    await waitFor(() => hub.subscriberCount() === 1, 'the a&b stream')
    for (let i = 0; i < 200; i++) {
      const s = await served.open('/?topic=a%0Ab')
      expect(s.status).toBe(400)
      await s.ended
      expect(s.text).toMatch(/control characters/)
      s.close()
    }
    expect(hub.subscriberCount('a\nb')).toBe(0)
    held.close()
    await waitFor(() => hub.subscriberCount() === 0, 'the a&b stream released')
    expect(inspectRegistry(hub)).toEqual({ subscribers: 0, topics: 0, lists: 0, clients: 0 })
  })

  it('keeps lists that look alike apart: a&b, b&a, 1:a1:b and 1:a&1:b', async () => {
    const hub = await served.serve({ heartbeatMs: 0 })
    const held = await served.open('/?topic=a&topic=b')
    await waitFor(() => hub.subscriberCount() === 1, 'the a&b stream')
    for (let i = 0; i < 50; i++) {
      for (const query of ['topic=b&topic=a', 'topic=1:a1:b', 'topic=1:a&topic=1:b', 'topic=a&topic=b']) {
        const s = await served.open(`/?${query}`)
        expect(s.status).toBe(200)
        await waitFor(() => hub.subscriberCount() === 2, `the ${query} stream`)
        s.close()
        await waitFor(() => hub.subscriberCount() === 1, `the ${query} stream released`)
      }
    }
    expect(inspectRegistry(hub)).toEqual({ subscribers: 1, topics: 2, lists: 1, clients: 1 })
    held.close()
    await waitFor(() => hub.subscriberCount() === 0, 'the a&b stream released')
    expect(inspectRegistry(hub)).toEqual({ subscribers: 0, topics: 0, lists: 0, clients: 0 })
  })
})
