// A second, independent reading of the event stream, written from the WHATWG HTML "Interpreting an event
// stream" algorithm. The `eventsource` client is built on `eventsource-parser`, so the encoding check
// also runs this one: a server that only round-trips through one parser's quirks does not pass.

/** One event as the WHATWG algorithm dispatches it. */
export interface SpecEvent {
  /** The event type; `message` when the stream named none. */
  type: string
  data: string
  /** The last event ID buffer at dispatch time (it persists across events, as in a browser). */
  lastEventId: string
}

/** Parses a stream of already-decoded text the way a browser's `EventSource` does. */
export class SpecParser {
  readonly events: SpecEvent[] = []
  retry: number | undefined
  private pending = ''
  private first = true
  private skipLf = false
  private data = ''
  private type = ''
  private lastEventId = ''

  /** Feeds the next piece of text (any split, even inside a CRLF pair). */
  feed(text: string): void {
    let chunk = text
    if (this.first && chunk.length > 0) {
      this.first = false
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1)
    }
    let start = 0
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i)
      if (this.skipLf) {
        this.skipLf = false
        if (c === 0x0a) {
          start = i + 1
          continue
        }
      }
      if (c === 0x0a || c === 0x0d) {
        this.line(this.pending + chunk.slice(start, i))
        this.pending = ''
        start = i + 1
        if (c === 0x0d) this.skipLf = true
      }
    }
    this.pending += chunk.slice(start)
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch()
      return
    }
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') this.type = value
    else if (field === 'data') this.data += `${value}\n`
    else if (field === 'id') {
      if (!value.includes('\0')) this.lastEventId = value
    } else if (field === 'retry') {
      if (/^[0-9]+$/.test(value)) this.retry = Number(value)
    }
  }

  private dispatch(): void {
    if (this.data === '') {
      this.type = ''
      return
    }
    this.events.push({
      type: this.type || 'message',
      data: this.data.slice(0, -1),
      lastEventId: this.lastEventId,
    })
    this.data = ''
    this.type = ''
  }
}
