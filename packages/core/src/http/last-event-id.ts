import type { RequestInfo } from '../types.js'
import { parseRequestUrl } from './request-url.js'

const utf8 = new TextDecoder('utf-8', { fatal: true })
const NON_ASCII = /[^\x00-\x7f]/
const NOT_LATIN1 = /[^\x00-\xff]/

/**
 * Node (and `Headers`) read header bytes as latin1, so a UTF-8 `Last-Event-ID` arrives as mojibake.
 * Re-decode it when the bytes are valid UTF-8; otherwise keep the value as given.
 */
function redecode(value: string): string {
  if (!NON_ASCII.test(value) || NOT_LATIN1.test(value)) return value
  const bytes = new Uint8Array(value.length)
  for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i)
  try {
    return utf8.decode(bytes)
  } catch {
    return value
  }
}

/**
 * The client's Last-Event-ID: the `Last-Event-ID` header, else the `lastEventId` query parameter
 * (EventSource cannot set headers on its first connect). Empty means none. Never throws: an id the hub
 * cannot use is answered with a reset event, not an error. `url`: `info.url` already parsed, if it was.
 */
export function readLastEventId(
  info: RequestInfo,
  url: URL | undefined = parseRequestUrl(info.url),
): string | undefined {
  const header = info.lastEventId
  if (typeof header === 'string' && header !== '') return redecode(header)
  const query = url?.searchParams.get('lastEventId')
  return query ? query : undefined
}
