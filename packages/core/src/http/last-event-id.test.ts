import { describe, expect, it } from 'vitest'
import type { RequestInfo } from '../types.js'
import { readLastEventId } from './last-event-id.js'

const info = (lastEventId: string | null | undefined, query = ''): RequestInfo => ({
  url: new URL(`http://x/${query}`),
  lastEventId,
  remoteAddress: '127.0.0.1',
})
/** What Node gives for a header whose bytes are the UTF-8 of `s`. */
const asLatin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1')

describe('readLastEventId', () => {
  it('prefers the header, then the lastEventId query parameter', () => {
    expect(readLastEventId(info('h-1', '?lastEventId=q-1'))).toBe('h-1')
    expect(readLastEventId(info(undefined, '?lastEventId=q-1'))).toBe('q-1')
    expect(readLastEventId(info('', '?lastEventId=q%E2%9C%93'))).toBe('q✓')
    expect(readLastEventId(info(null))).toBeUndefined()
    expect(readLastEventId(info(undefined, '?lastEventId='))).toBeUndefined()
  })

  it('re-decodes a UTF-8 header that Node read as latin1', () => {
    expect(readLastEventId(info(asLatin1('épique-✓-😀')))).toBe('épique-✓-😀')
  })

  it('keeps a genuine latin1 value (invalid as UTF-8) as given, and never throws on garbage', () => {
    expect(readLastEventId(info('caf\u00e9'))).toBe('caf\u00e9')
    expect(readLastEventId(info('\u00ff\u00fe\u0000'))).toBe('\u00ff\u00fe\u0000')
    expect(readLastEventId(info('\uD800 lone'))).toBe('\uD800 lone')
  })
})
