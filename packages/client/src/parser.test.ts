import { encodeEvent, type SseMessage } from '@herald/sse-core'
import { EXACT_CASES, messageArbitrary, normalise, ROUND_TRIP_CASES } from '@herald/test-utils'
import { createParser as referenceParser } from 'eventsource-parser'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Block, createParser } from './parser.js'

interface Read {
  blocks: Block[]
  retries: number[]
  comments: number
  tooLarge: number
}

/** Runs `pieces` (text) through the parser, as the client does after decoding. */
function read(pieces: string[], maxLength = Number.POSITIVE_INFINITY): Read {
  const out: Read = { blocks: [], retries: [], comments: 0, tooLarge: 0 }
  const parser = createParser(
    {
      block: (b) => out.blocks.push(b),
      retry: (ms) => out.retries.push(ms),
      comment: () => out.comments++,
      tooLarge: () => out.tooLarge++,
    },
    maxLength,
  )
  for (const piece of pieces) parser.feed(piece)
  return out
}

/** `bytes` cut every `size` bytes and decoded as a stream, as the client reads a response body. */
function decodeInPieces(bytes: Uint8Array, size: number): string[] {
  const decoder = new TextDecoder()
  const pieces: string[] = []
  for (let i = 0; i < bytes.length; i += size) {
    pieces.push(decoder.decode(bytes.subarray(i, i + size), { stream: true }))
  }
  pieces.push(decoder.decode())
  return pieces
}

const concat = (parts: Uint8Array[]) => {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const p of parts) {
    all.set(p, offset)
    offset += p.length
  }
  return all
}

/** What eventsource-parser makes of the same pieces, in this parser's terms (dispatched events only). */
function reference(pieces: string[]) {
  const events: { type: string; data: string; id: string | undefined }[] = []
  const retries: number[] = []
  let comments = 0
  const parser = referenceParser({
    onEvent: (e) => events.push({ type: e.event ?? 'message', data: e.data, id: e.id }),
    onRetry: (ms) => retries.push(ms),
    onComment: () => comments++,
  })
  for (const piece of pieces) parser.feed(piece)
  return { events, retries, comments }
}

describe('parser: the encoder test cases', () => {
  it.each(EXACT_CASES)('%j', (message, text) => {
    for (const size of [text.length, 1, 3]) {
      const r = read(decodeInPieces(new TextEncoder().encode(text), size))
      const expected: Block[] = []
      if (message.data !== undefined || (message.id !== undefined && message.id !== null)) {
        expected.push({
          type: message.event ?? 'message',
          data: message.data === undefined ? undefined : normalise(message.data),
          id: message.id === undefined ? undefined : String(message.id),
        })
      }
      expect(r.blocks).toEqual(expected)
      expect(r.retries).toEqual(message.retry === undefined ? [] : [message.retry])
      expect(r.comments).toBe(message.comment === undefined ? 0 : 1)
    }
  })

  for (const size of [Number.POSITIVE_INFINITY, 1, 3]) {
    it.each(ROUND_TRIP_CASES)(`round trip in pieces of ${size} bytes: %j`, (message: SseMessage) => {
      const bytes = encodeEvent(message)
      const r = read(decodeInPieces(bytes, Math.min(size, bytes.length)))
      expect(r.blocks).toEqual([
        {
          type: message.event ?? 'message',
          data: normalise(message.data ?? ''),
          id: message.id === undefined ? undefined : String(message.id),
        },
      ])
    })
  }

  it('any sequence of encoded events, cut anywhere, reads back exactly and as eventsource-parser reads it', () => {
    fc.assert(
      fc.property(
        fc.array(messageArbitrary, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 7 }),
        (msgs, size) => {
          const bytes = concat(msgs.map(encodeEvent))
          const pieces = decodeInPieces(bytes, size)
          const r = read(pieces)
          expect(r.blocks).toEqual(
            msgs.map((m) => ({ type: m.event ?? 'message', data: normalise(m.data ?? ''), id: m.id })),
          )
          expect(r.blocks).toEqual(reference(pieces).events)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('parser: raw streams', () => {
  // Lines of every kind, joined with any line ending, then cut into random pieces.
  const line = fc.oneof(
    fc.constant(''),
    fc.string({ unit: 'grapheme' }).map((s) => `data:${s}`),
    fc.string({ unit: 'grapheme' }).map((s) => `data: ${s}`),
    fc.constantFrom(
      'data',
      'data:',
      'event',
      'id',
      'id:',
      ':',
      ': heartbeat',
      'retry: x1',
      'bogus: 1',
      'retry',
    ),
    fc.string().map((s) => `event: ${s}`),
    fc.string().map((s) => `id: ${s}`),
    fc.nat().map((n) => `retry: ${n}`),
    fc.string().map((s) => `:${s}`),
  )
  const stream = fc
    .array(fc.tuple(line, fc.constantFrom('\n', '\r', '\r\n')), { maxLength: 30 })
    .map((lines) => lines.map(([l, end]) => l.replace(/[\r\n\uFEFF]/g, '') + end).join(''))

  it('reads what eventsource-parser reads, however the text is cut', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 8 }), (text, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b)
        const pieces = [0, ...points, text.length]
          .slice(1)
          .map((end, i, ends) => text.slice(i ? ends[i - 1] : 0, end))
        // One more LF for both: eventsource-parser holds back a final CR until it sees what follows
        // (it may be half of a CRLF); this parser treats it as the line end it is and skips a later LF.
        const r = read([...pieces, '\n'])
        const expected = reference([text, '\n'])
        // Blocks without data are id changes, not events: the reference does not report them.
        expect(r.blocks.filter((b) => b.data !== undefined)).toEqual(expected.events)
        expect(r.retries).toEqual(expected.retries)
        expect(r.comments).toBe(expected.comments)
      }),
      { numRuns: 500 },
    )
  })

  it('a CRLF split across pieces (even with an empty piece between) is one line end; a lone CR is one too', () => {
    const one = (data: string) => ({ type: 'message', data, id: undefined })
    expect(read(['data: a\r', '\n', '\n']).blocks).toEqual([one('a')])
    expect(read(['data: a\r', '', '\n', 'data: b\n\n']).blocks).toEqual([one('a\nb')])
    expect(read(['data: a\r', 'data: b\r', '\r']).blocks).toEqual([one('a\nb')])
    expect(read(['data: a\r\r']).blocks).toEqual([one('a')])
  })

  it('an id takes effect when its block ends: a cut mid-event does not move the resume point', () => {
    const r = read(['id: 1\ndata: one\n\n', 'id: 2\ndata: tw'])
    expect(r.blocks).toEqual([{ type: 'message', data: 'one', id: '1' }])
  })

  it('reports an id-only block (it moves the resume point, as in a browser) and ignores an id with NUL', () => {
    expect(read(['id: 7\n\n']).blocks).toEqual([{ type: 'message', data: undefined, id: '7' }])
    expect(read(['id: a\0b\ndata: x\n\n']).blocks).toEqual([{ type: 'message', data: 'x', id: undefined }])
  })

  it('says when a line or an unfinished event passes maxLength', () => {
    expect(read(['data: ', 'x'.repeat(20)], 16).tooLarge).toBe(1)
    expect(read(['data: 0123456789\n', 'data: 0123456789\n'], 16).tooLarge).toBe(1)
    expect(read(['data: 0123456789\n\n', 'data: 0123456789\n\n'], 16).tooLarge).toBe(0)
  })

  it('reset() forgets a partial line and event', () => {
    const out: Block[] = []
    const parser = createParser({ block: (b) => out.push(b), retry() {}, comment() {}, tooLarge() {} }, 1e6)
    parser.feed('event: x\ndata: partial')
    parser.reset()
    parser.feed('data: whole\n\n')
    expect(out).toEqual([{ type: 'message', data: 'whole', id: undefined }])
  })
})
