// The event-stream reading of the WHATWG HTML standard ("Interpreting an event stream"), fed decoded text
// in pieces of any size: a line may end with CRLF, LF or a lone CR, and a CRLF may be split across pieces.
// Its own, rather than a dependency, to keep the browser file small; parser.test.ts holds it to the
// encoder's cases and to eventsource-parser on random streams cut at random places.

/** What a blank line completes. */
export interface Block {
  /** The `event:` name, `message` when there was none. */
  type: string
  /** The `data:` lines joined with LF; undefined when the block had none (nothing to dispatch). */
  data: string | undefined
  /** The block's `id:` (a value containing NUL is ignored, as the standard says); undefined without one. */
  id: string | undefined
}

export interface ParserHandlers {
  block(block: Block): void
  retry(ms: number): void
  comment(): void
  /** A line or an unfinished event passed `maxLength` characters. */
  tooLarge(): void
}

export interface EventStreamParser {
  feed(text: string): void
  /** Forgets a partial line or event: a new connection starts clean. */
  reset(): void
}

/**
 * A streaming parser. One difference from the standard, on purpose: an `id:` takes effect when its block
 * ends, not when its line is read, so a connection cut in the middle of an event does not resume after
 * the event it never delivered.
 */
export function createParser(on: ParserHandlers, maxLength: number): EventStreamParser {
  let pending = ''
  let afterCR = false
  let data: string | undefined
  let type = ''
  let id: string | undefined

  function line(text: string): void {
    if (text === '') {
      const block = { type: type || 'message', data, id }
      data = id = undefined
      type = ''
      if (block.data !== undefined || block.id !== undefined) on.block(block)
      return
    }
    const colon = text.indexOf(':')
    if (colon === 0) {
      on.comment()
      return
    }
    const field = colon < 0 ? text : text.slice(0, colon)
    const value = colon < 0 ? '' : text.slice(colon + (text[colon + 1] === ' ' ? 2 : 1))
    if (field === 'data') data = data === undefined ? value : `${data}\n${value}`
    else if (field === 'event') type = value
    else if (field === 'id' && !value.includes('\0')) id = value
    else if (field === 'retry' && /^\d+$/.test(value)) on.retry(Number(value))
  }

  return {
    feed(text) {
      if (afterCR && text) {
        afterCR = false
        // The LF of a CRLF whose CR ended the previous piece.
        if (text[0] === '\n') text = text.slice(1)
      }
      if (!/[\r\n]/.test(text)) pending += text
      else {
        const lines = (pending + text).split(/\r\n|\r|\n/)
        pending = lines.pop()!
        afterCR = text.endsWith('\r')
        for (const l of lines) line(l)
      }
      if (pending.length + (data?.length ?? 0) > maxLength) on.tooLarge()
    },
    reset() {
      pending = ''
      afterCR = false
      data = id = undefined
      type = ''
    },
  }
}
