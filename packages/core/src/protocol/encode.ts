import { HeraldEncodingError } from '../errors.js'

/**
 * One server-sent event. Every field is optional, but a message needs at least one.
 * - `data`: any string; line breaks (CRLF, LF, lone CR) become separate `data:` lines.
 * - `event`: the event type; may not contain CR or LF.
 * - `id`: sets the client's last event ID; `""` resets it. May not contain CR, LF or NUL.
 *   A number must be a non-negative safe integer.
 * - `retry`: reconnection delay in milliseconds, a non-negative safe integer.
 * - `comment`: a `:` line the client ignores; may not contain CR or LF.
 */
export interface SseMessage {
  data?: string
  event?: string
  id?: string | number
  retry?: number
  comment?: string
}

const LINE_BREAK = /\r\n|\r|\n/
// indexOf scans run several times faster than a regex test on short strings; this check runs on every
// publish, and a regex test cost about as much as the Buffer.from itself (bench/encode.bench.ts).
const hasLineBreak = (s: string) => s.indexOf('\n') !== -1 || s.indexOf('\r') !== -1
const hasIdForbidden = (s: string) => hasLineBreak(s) || s.indexOf('\0') !== -1

const textEncoder = new TextEncoder()
// Buffer.from is the fastest UTF-8 encoder on Node and is itself a Uint8Array; TextEncoder elsewhere.
// Both replace a lone surrogate with U+FFFD, so the output is always valid UTF-8.
const NodeBuffer = (globalThis as { Buffer?: { from(s: string, enc: 'utf8'): Uint8Array } }).Buffer
/** Encodes a string as UTF-8 bytes (lone surrogates become U+FFFD). */
export const utf8: (s: string) => Uint8Array = NodeBuffer
  ? (s) => NodeBuffer.from(s, 'utf8')
  : (s) => textEncoder.encode(s)

function fail(field: string, rule: string): never {
  throw new HeraldEncodingError(field, `ERR_SSE_INVALID_${field.toUpperCase()}`, rule)
}

// An empty value is written without the space, as `data:` / `:`; otherwise one space always follows the
// colon, because a client strips exactly one and a value's own leading spaces must survive.
const dataLine = (line: string) => (line === '' ? 'data:\n' : `data: ${line}\n`)
const commentLine = (text: string) => (text === '' ? ':\n' : `: ${text}\n`)

function checkLine(field: string, value: unknown): string {
  if (typeof value !== 'string') fail(field, `must be a string, got ${typeof value}`)
  if (hasLineBreak(value)) fail(field, 'must not contain CR or LF')
  return value
}

/** Validates `message` and returns its exact event-stream text, ending with the blank line. */
export function encodeEventText(message: SseMessage): string {
  if (message === null || typeof message !== 'object') {
    throw new HeraldEncodingError('message', 'ERR_SSE_INVALID_MESSAGE', 'must be an object')
  }
  const { data, event, id, retry, comment } = message
  let out = ''
  if (comment !== undefined) out += commentLine(checkLine('comment', comment))
  if (event !== undefined) out += `event: ${checkLine('event', event)}\n`
  if (id !== undefined) {
    if (typeof id === 'number') {
      if (!Number.isSafeInteger(id) || id < 0) fail('id', 'a numeric id must be a non-negative safe integer')
      out += `id: ${id}\n`
    } else if (typeof id === 'string') {
      if (hasIdForbidden(id)) fail('id', 'must not contain CR, LF or NUL')
      out += id === '' ? 'id:\n' : `id: ${id}\n`
    } else {
      fail('id', `must be a string or a number, got ${typeof id}`)
    }
  }
  if (retry !== undefined) {
    if (typeof retry !== 'number' || !Number.isSafeInteger(retry) || retry < 0) {
      fail('retry', 'must be a non-negative safe integer (milliseconds)')
    }
    out += `retry: ${retry}\n`
  }
  if (data !== undefined) {
    if (typeof data !== 'string') fail('data', `must be a string, got ${typeof data}`)
    if (hasLineBreak(data)) {
      for (const line of data.split(LINE_BREAK)) out += dataLine(line)
    } else {
      // The common case, finished in one concatenation: the closing blank line goes with the data line.
      return data === '' ? `${out}data:\n\n` : `${out}data: ${data}\n\n`
    }
  }
  if (out === '') {
    throw new HeraldEncodingError(
      'message',
      'ERR_SSE_EMPTY_MESSAGE',
      'needs at least one of data, event, id, retry, comment',
    )
  }
  return `${out}\n`
}

/**
 * Encodes one event to the exact bytes sent on the wire (UTF-8, `\n` line ends, closing blank line).
 * Throws `HeraldEncodingError` naming the field when a value breaks a rule; nothing is stripped silently.
 *
 * @example
 * encodeEvent({ event: 'progress', id: 7, data: 'line one\nline two' })
 * // event: progress\nid: 7\ndata: line one\ndata: line two\n\n
 */
export function encodeEvent(message: SseMessage): Uint8Array {
  return utf8(encodeEventText(message))
}

/**
 * Encodes a comment line (`: text`), which clients ignore: heartbeats and padding.
 * An empty string gives `:` alone. Throws `HeraldEncodingError` if `text` contains CR or LF.
 */
export function encodeComment(text = ''): Uint8Array {
  return utf8(`${commentLine(checkLine('comment', text))}\n`)
}
