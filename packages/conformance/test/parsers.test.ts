// The suite's own WHATWG parser, checked against eventsource-parser on frames from the core encoder,
// including what the hub never sends but the format allows: `id: 0`, an id reset (`id:` empty), retry.
import { encodeEventText } from '@herald/sse-core'
import { createParser } from 'eventsource-parser'
import { describe, expect, it } from 'vitest'
import { SpecParser } from '../src/spec-parser.js'

const STREAM = [
  encodeEventText({ id: 0, data: 'zero' }),
  encodeEventText({ event: 'custom', data: 'a\r\nb\rc\nd' }),
  encodeEventText({ id: '', data: 'after reset' }),
  encodeEventText({ data: '' }),
  encodeEventText({ comment: 'heartbeat' }),
  encodeEventText({ retry: 1500 }),
  encodeEventText({ id: 'x-7', data: '  spaced: é日🎉' }),
].join('')

function splitEvery(text: string, size: number): string[] {
  const bytes = new TextEncoder().encode(text)
  const decoder = new TextDecoder()
  const out: string[] = []
  for (let i = 0; i < bytes.length; i += size)
    out.push(decoder.decode(bytes.subarray(i, i + size), { stream: true }))
  return out
}

describe('SpecParser', () => {
  for (const size of [1, 2, 3, 7, 1024]) {
    it(`reads the encoder's frames like a browser, fed ${size} byte(s) at a time`, () => {
      const spec = new SpecParser()
      const other: { event?: string; id?: string; data: string }[] = []
      const parser = createParser({ onEvent: (e) => other.push(e) })
      for (const piece of splitEvery(STREAM, size)) {
        spec.feed(piece)
        parser.feed(piece)
      }
      expect(spec.events).toEqual([
        { type: 'message', data: 'zero', lastEventId: '0' },
        { type: 'custom', data: 'a\nb\nc\nd', lastEventId: '0' },
        { type: 'message', data: 'after reset', lastEventId: '' },
        { type: 'message', data: '', lastEventId: '' },
        { type: 'message', data: '  spaced: é日🎉', lastEventId: 'x-7' },
      ])
      expect(spec.retry).toBe(1500)
      expect(other.map((e) => e.data)).toEqual(spec.events.map((e) => e.data))
      expect(other.map((e) => e.event ?? 'message')).toEqual(spec.events.map((e) => e.type))
    })
  }

  it('handles a CRLF split across feeds, a lone CR and a leading BOM', () => {
    const spec = new SpecParser()
    for (const piece of ['\ufeffdata: one\r', '\n\r', 'data: two\r\r']) spec.feed(piece)
    expect(spec.events.map((e) => e.data)).toEqual(['one', 'two'])
  })
})
