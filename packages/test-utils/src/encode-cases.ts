// The encoder's test cases, shared with every reader that must agree with it (the client's parser too).

import type { SseMessage } from '@herald/sse-core'
import fc from 'fast-check'

/** Messages and the exact bytes (as text) the encoder writes for them. */
export const EXACT_CASES: [SseMessage, string][] = [
  [{ data: 'hello' }, 'data: hello\n\n'],
  [{ data: '' }, 'data:\n\n'],
  [{ data: 'a\nb' }, 'data: a\ndata: b\n\n'],
  [{ data: 'a\r\nb\rc\n' }, 'data: a\ndata: b\ndata: c\ndata:\n\n'],
  [{ data: '  two spaces' }, 'data:   two spaces\n\n'],
  [
    { data: 'x', event: 'update', id: 'abc', retry: 1500 },
    'event: update\nid: abc\nretry: 1500\ndata: x\n\n',
  ],
  [{ id: 0, data: 'zero' }, 'id: 0\ndata: zero\n\n'],
  [{ id: '' }, 'id:\n\n'],
  [{ retry: 0 }, 'retry: 0\n\n'],
  [{ retry: 2 ** 53 - 1 }, `retry: ${2 ** 53 - 1}\n\n`],
  [{ comment: 'hi', data: 'd' }, ': hi\ndata: d\n\n'],
  [{ comment: '' }, ':\n\n'],
  [{ data: 'back\\slash \u2028 nul\0 : colon' }, 'data: back\\slash \u2028 nul\0 : colon\n\n'],
]

/** Messages that must come back from a parser exactly as sent (whole, and in small chunks). */
export const ROUND_TRIP_CASES: SseMessage[] = [
  { data: 'multi\nline\r\nwith\rall breaks' },
  { data: '   leading spaces' },
  { data: ': looks like a comment' },
  { data: 'data: nested field' },
  { data: '' },
  { data: '\n' },
  { data: 'emoji 😀 and 中文 across chunk boundaries ✓' },
  { id: 0, data: 'zero id' },
  { id: 'αβγ', event: 'custom-name', data: 'x' },
  { event: 'spaced  name', data: 'y' },
]

/** The data a spec-following client sees: every line break normalised to LF. */
export const normalise = (s: string) => s.replace(/\r\n|\r/g, '\n')

// Strings the rules allow in each field.
const anyText = fc.string({ unit: 'grapheme' })
const lineText = anyText.filter((s) => !/[\r\n]/.test(s))
const idText = lineText.filter((s) => !s.includes('\0') && s !== '')

/** Any message the encoder accepts with data, an event name and an id. */
export const messageArbitrary = fc.record(
  { data: anyText, event: lineText.filter((s) => s !== ''), id: idText },
  { requiredKeys: ['data'] },
)
