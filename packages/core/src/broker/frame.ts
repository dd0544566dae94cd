import { HeraldEncodingError } from '../errors.js'
import { utf8 } from '../protocol/encode.js'

const NodeBuffer = (globalThis as { Buffer?: { allocUnsafe(size: number): Uint8Array } }).Buffer
const allocate: (size: number) => Uint8Array = NodeBuffer
  ? (size) => NodeBuffer.allocUnsafe(size)
  : (size) => new Uint8Array(size)

const ID_PREFIX = [0x69, 0x64, 0x3a, 0x20] // `id: `

/**
 * `id: <id>\n` followed by `body` (an event encoded without an id): the one place a frame gets its id,
 * so the hub encodes an event once whichever process assigns the id. Throws `HeraldEncodingError` for an
 * empty id or one with CR, LF or NUL (it would end the line early and corrupt the stream).
 */
export function frameWithId(id: string, body: Uint8Array): Uint8Array {
  if (typeof id !== 'string' || id === '') {
    throw new HeraldEncodingError('id', 'ERR_SSE_INVALID_ID', 'a broker id must be a non-empty string')
  }
  let ascii = true
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i)
    if (c === 0x0a || c === 0x0d || c === 0) {
      throw new HeraldEncodingError('id', 'ERR_SSE_INVALID_ID', 'must not contain CR, LF or NUL')
    }
    if (c >= 0x80) ascii = false
  }
  // The common case (ASCII ids) writes the line in place: one allocation per event.
  const idBytes = ascii ? undefined : utf8(id)
  const idLength = idBytes ? idBytes.length : id.length
  const out = allocate(5 + idLength + body.length)
  out.set(ID_PREFIX, 0)
  if (idBytes) out.set(idBytes, 4)
  else for (let i = 0; i < idLength; i++) out[4 + i] = id.charCodeAt(i)
  out[4 + idLength] = 0x0a
  out.set(body, 5 + idLength)
  return out
}
