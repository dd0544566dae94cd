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
  const clear = () => {
    data = id = undefined
    type = ''
  }

  function line(text: string): void {
    if (!text) {
      const block = { type: type || 'message', data, id }
      clear()
      if (block.data !== undefined || block.id !== undefined) on.block(block)
      return
    }
    // field, then an optional colon and one optional space, then the value (`s`: U+2028 is
    // not a line end here); no colon: the line is the field.
    const [, field, value] = /^([^:]*):? ?(.*)/s.exec(text) as unknown as [string, string, string]
    // No field: the line began with a colon.
    if (!field) on.comment()
    else if (field === 'data') data = data === undefined ? value : `${data}\n${value}`
    else if (field === 'event') type = value
    else if (field === 'id' && !value.includes('\0')) id = value
    else if (field === 'retry' && /^\d+$/.test(value)) on.retry(+value)
  }

  return {
    feed(text) {
      if (!text) return
      // The LF of a CRLF whose CR ended the previous piece.
      if (afterCR && text[0] === '\n') text = text.slice(1)
      // Only the new text is split (a long line arriving in many pieces is not scanned again each time).
      const lines = text.split(/\r\n|\r|\n/)
      lines[0] = pending + lines[0]
      pending = lines.pop()!
      afterCR = text.endsWith('\r')
      for (const l of lines) line(l)
      if (pending.length + (data?.length ?? 0) > maxLength) on.tooLarge()
    },
    reset() {
      pending = ''
      afterCR = false
      clear()
    },
  }
}
