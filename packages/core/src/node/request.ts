/** What `lastEventIdHeader` reads of a Node request (`IncomingMessage` or `Http2ServerRequest`). */
export interface NodeRequestHeaders {
  readonly rawHeaders?: readonly string[]
  readonly headers?: Record<string, string | string[] | undefined>
}

/**
 * The `Last-Event-ID` header of a Node request, read from `req.rawHeaders`: reading `req.headers` makes
 * Node build and keep a headers object for the rest of the request, which on an event stream is its whole
 * life. Repeated headers are joined with `, `, as `req.headers` joins them. Undefined when absent.
 */
export function lastEventIdHeader(req: NodeRequestHeaders): string | undefined {
  const raw = req.rawHeaders
  if (!Array.isArray(raw)) {
    const value = req.headers?.['last-event-id']
    return Array.isArray(value) ? value.join(', ') : value
  }
  let value: string | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length === 13 && name.toLowerCase() === 'last-event-id') {
      value = value === undefined ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`
    }
  }
  return value
}
