import { describe, expect, it } from 'vitest'
import { HeraldConfigError, HeraldEncodingError } from '../errors.js'
import { utf8 } from '../protocol/encode.js'
import { frameWithId } from './frame.js'
import { createMemoryBroker } from './memory.js'
import type { BrokerEntry, BrokerReplay } from './types.js'

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8')
const body = (data: string) => utf8(`data: ${data}\n\n`)
const ids = (r: BrokerReplay | Promise<BrokerReplay>) => {
  const replay = r as BrokerReplay
  return replay.kind === 'events' ? replay.entries.map((e) => e.id) : replay
}

function broker(options: Parameters<typeof createMemoryBroker>[0] = {}) {
  const b = createMemoryBroker({ epoch: 'm', ...options })
  const delivered: BrokerEntry[] = []
  b.attach({ deliver: (e) => delivered.push(e), gap: () => {}, outage: () => {} })
  return { b, delivered }
}

describe('frameWithId', () => {
  it('puts the id line first, in UTF-8', () => {
    expect(text(frameWithId('e-1', body('x')))).toBe('id: e-1\ndata: x\n\n')
    expect(text(frameWithId('épα-2', body('y')))).toBe('id: épα-2\ndata: y\n\n')
  })

  it('refuses an id that would break the line', () => {
    for (const id of ['', 'a\nb', 'a\rb', 'a\0b']) {
      expect(() => frameWithId(id, body('x'))).toThrow(HeraldEncodingError)
    }
  })
})

describe('the memory broker', () => {
  it('assigns ordered ids and delivers before publish resolves', async () => {
    const { b, delivered } = broker()
    const pending = b.publish({ topics: ['t'], body: body('one') })
    expect(delivered.map((e) => e.id)).toEqual(['m-1'])
    const entry = await pending
    expect(entry).toBe(delivered[0])
    expect(text(entry.frame)).toBe('id: m-1\ndata: one\n\n')
    expect(b.compare!('m-1', 'm-2')).toBeLessThan(0)
    expect(b.compare!('m-1', 'other-2')).toBeUndefined()
  })

  it('replays several topics from one id: in order, an event on two of them once', async () => {
    const { b } = broker()
    for (const topics of [['a'], ['a', 'b'], ['b'], ['c'], ['b', 'a'], ['a']]) {
      await b.publish({ topics, body: body(topics.join()) })
    }
    expect(ids(b.replay(['b', 'a'], 'm-0'))).toEqual(['m-1', 'm-2', 'm-3', 'm-5', 'm-6'])
    expect(ids(b.replay(['b', 'a', 'c'], 'm-2'))).toEqual(['m-3', 'm-4', 'm-5', 'm-6'])
    expect(ids(b.replay(['b'], 'm-6'))).toEqual([])
  })

  it('answers with a reset, and the newest id, when it cannot replay exactly', async () => {
    const { b } = broker({ history: { maxEvents: 3 } })
    for (let i = 0; i < 5; i++) await b.publish({ topics: ['t'], body: body(String(i)) })
    expect(ids(b.replay(['t'], 'm-2'))).toEqual(['m-3', 'm-4', 'm-5'])
    expect(b.replay(['t'], 'm-1')).toEqual({ kind: 'reset', reason: 'too-old', id: 'm-5' })
    expect(b.replay(['t'], 'old-1')).toEqual({ kind: 'reset', reason: 'other-epoch', id: 'm-5' })
    expect(b.replay(['t'], 'garbage')).toEqual({ kind: 'reset', reason: 'unknown-id', id: 'm-5' })
    // Never issued here: another process with the same epoch, or a restart.
    expect(b.replay(['t'], 'm-9')).toEqual({ kind: 'reset', reason: 'unknown-id', id: 'm-5' })
  })

  it('forgets events by age', async () => {
    const { b } = broker({ history: { maxAgeMs: 50 } })
    await b.publish({ topics: ['t'], body: body('old') })
    expect(ids(b.replay(['t'], 'm-0'))).toEqual(['m-1'])
    await new Promise((r) => setTimeout(r, 80))
    expect(b.replay(['t'], 'm-0')).toMatchObject({ kind: 'reset', reason: 'too-old' })
    expect(ids(b.replay(['t'], 'm-1'))).toEqual([])
    await b.close()
  })

  it('without history, answers every past id with a reset', async () => {
    const { b } = broker({ history: false })
    await b.publish({ topics: ['t'], body: body('x') })
    await b.publish({ topics: ['t'], body: body('y') })
    expect(b.replay(['t'], 'm-1')).toMatchObject({ kind: 'reset', reason: 'too-old' })
    expect(b.usage!()).toEqual({ events: 0, bytes: 0 })
  })

  it('rejects bad options naming them', () => {
    expect(() => createMemoryBroker({ epoch: 'a b' })).toThrow(/Invalid option epoch/)
    expect(() => createMemoryBroker({ history: { maxBytes: 0 } })).toThrow(/history.maxBytes/)
    expect(() => createMemoryBroker({ store: 1 } as never)).toThrow(HeraldConfigError)
  })
})
