import { EXACT_CASES, messageArbitrary, normalise, ROUND_TRIP_CASES } from '@herald/test-utils'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HeraldEncodingError } from '../errors.js'
import { encodeComment, encodeEvent, type SseMessage } from './encode.js'

interface Parsed {
  events: EventSourceMessage[]
  comments: string[]
  retries: number[]
}

/** Feeds bytes through an independent parser, decoding UTF-8 as a client would (streaming). */
function parse(bytes: Uint8Array, chunkSize = bytes.length): Parsed {
  const out: Parsed = { events: [], comments: [], retries: [] }
  const parser = createParser({
    onEvent: (e) => out.events.push(e),
    onComment: (c) => out.comments.push(c),
    onRetry: (r) => out.retries.push(r),
  })
  const decoder = new TextDecoder('utf-8', { fatal: true })
  for (let i = 0; i < bytes.length; i += Math.max(1, chunkSize)) {
    parser.feed(decoder.decode(bytes.subarray(i, i + Math.max(1, chunkSize)), { stream: true }))
  }
  parser.feed(decoder.decode())
  return out
}

const text = (b: Uint8Array) => new TextDecoder().decode(b)

describe('encodeEvent: exact bytes', () => {
  it.each<[SseMessage, string]>(EXACT_CASES)('%j', (message, expected) => {
    expect(text(encodeEvent(message))).toBe(expected)
  })

  it('encodes comments for heartbeats', () => {
    expect(text(encodeComment())).toBe(':\n\n')
    expect(text(encodeComment('ping'))).toBe(': ping\n\n')
  })

  it('replaces a lone surrogate with U+FFFD so the output is valid UTF-8', () => {
    const bytes = encodeEvent({ data: 'a\uD800b' })
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).not.toThrow()
    expect(text(bytes)).toBe('data: a\uFFFDb\n\n')
  })
})

describe('encodeEvent: round-trip through eventsource-parser', () => {
  for (const chunk of [Number.POSITIVE_INFINITY, 1, 3]) {
    it.each(ROUND_TRIP_CASES)(`chunks of ${chunk}: %j`, (message) => {
      const bytes = encodeEvent(message)
      const parsed = parse(bytes, chunk === Number.POSITIVE_INFINITY ? bytes.length : chunk)
      expect(parsed.events).toHaveLength(1)
      const e = parsed.events[0]!
      expect(e.data).toBe(normalise(message.data ?? ''))
      expect(e.event).toBe(message.event)
      expect(e.id).toBe(message.id === undefined ? undefined : String(message.id))
    })
  }

  it('delivers retry to the parser as a number', () => {
    expect(parse(encodeEvent({ retry: 3000 })).retries).toEqual([3000])
  })

  it('resets the last event id with an empty id', () => {
    const bytes = new Uint8Array([
      ...encodeEvent({ id: '5', data: 'a' }),
      ...encodeEvent({ id: '', data: 'b' }),
    ])
    expect(parse(bytes).events.map((e) => e.id)).toEqual(['5', ''])
  })
})

describe('encodeEvent: properties', () => {
  it('a sequence of events arrives as exactly the same sequence, whole or in 1-byte chunks', () => {
    fc.assert(
      fc.property(
        fc.array(messageArbitrary, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 7 }),
        (msgs, chunk) => {
          const parts = msgs.map(encodeEvent)
          const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
          let o = 0
          for (const p of parts) {
            all.set(p, o)
            o += p.length
          }
          for (const size of [all.length, chunk]) {
            const parsed = parse(all, size)
            expect(parsed.events).toHaveLength(msgs.length)
            let lastId: string | undefined
            parsed.events.forEach((e, i) => {
              const m = msgs[i]!
              if (m.id !== undefined) lastId = String(m.id)
              expect(e.data).toBe(normalise(m.data ?? ''))
              expect(e.event).toBe(m.event)
              expect(e.id ?? lastId).toBe(lastId)
            })
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('encodeEvent: rejections name the field and the rule', () => {
  it.each<[SseMessage, string, string]>([
    [{ id: 'a\nb' }, 'id', 'ERR_SSE_INVALID_ID'],
    [{ id: 'a\rb' }, 'id', 'ERR_SSE_INVALID_ID'],
    [{ id: 'a\0b' }, 'id', 'ERR_SSE_INVALID_ID'],
    [{ id: -1 }, 'id', 'ERR_SSE_INVALID_ID'],
    [{ id: 1.5 }, 'id', 'ERR_SSE_INVALID_ID'],
    [{ id: Number.NaN }, 'id', 'ERR_SSE_INVALID_ID'],
    [{ event: 'a\nb' }, 'event', 'ERR_SSE_INVALID_EVENT'],
    [{ event: 'a\rb' }, 'event', 'ERR_SSE_INVALID_EVENT'],
    [{ retry: -1 }, 'retry', 'ERR_SSE_INVALID_RETRY'],
    [{ retry: 1.5 }, 'retry', 'ERR_SSE_INVALID_RETRY'],
    [{ retry: Number.NaN }, 'retry', 'ERR_SSE_INVALID_RETRY'],
    [{ retry: Number.POSITIVE_INFINITY }, 'retry', 'ERR_SSE_INVALID_RETRY'],
    [{ retry: 2 ** 53 }, 'retry', 'ERR_SSE_INVALID_RETRY'],
    [{ retry: 1e21 }, 'retry', 'ERR_SSE_INVALID_RETRY'],
    [{ comment: 'a\nb' }, 'comment', 'ERR_SSE_INVALID_COMMENT'],
    [{ comment: 'a\r' }, 'comment', 'ERR_SSE_INVALID_COMMENT'],
    [{ data: 42 as unknown as string }, 'data', 'ERR_SSE_INVALID_DATA'],
    [{}, 'message', 'ERR_SSE_EMPTY_MESSAGE'],
    [null as unknown as SseMessage, 'message', 'ERR_SSE_INVALID_MESSAGE'],
  ])('%j', (message, field, code) => {
    let error: unknown
    try {
      encodeEvent(message)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(HeraldEncodingError)
    const e = error as HeraldEncodingError
    expect(e.field).toBe(field)
    expect(e.code).toBe(code)
    expect(e.message).toContain(field)
  })

  it('rejects a comment with a line break in encodeComment', () => {
    expect(() => encodeComment('x\ny')).toThrow(HeraldEncodingError)
  })
})
