// A request written byte for byte over a plain TCP socket, for what an HTTP client library refuses to
// send (an absolute-form target with a bad port, headers one byte at a time). Public as
// `@herald/sse-conformance/helpers`.
import net from 'node:net'

/** A response as read off the socket: status line parsed, headers lower-cased, the rest as text. */
export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
  /** Everything the server sent. */
  raw: string
}

/** Connects to `base`'s host and port, sends `head` (request line and headers, no final blank line) and `Connection: close`, and reads until the server closes. */
export function rawRequest(base: string, head: string, timeoutMs = 5000): Promise<RawResponse> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(`${head}\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`)
    })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no complete answer to ${JSON.stringify(head)} within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      const raw = Buffer.concat(chunks).toString('latin1')
      const end = raw.indexOf('\r\n\r\n')
      const lines = raw.slice(0, end === -1 ? raw.length : end).split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':')
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      let body = end === -1 ? '' : raw.slice(end + 4)
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = unchunk(body)
      resolve({ status: Number(lines[0]?.split(' ')[1] ?? 0), headers, body, raw })
    })
  })
}

function unchunk(text: string): string {
  let out = ''
  let at = 0
  for (;;) {
    const eol = text.indexOf('\r\n', at)
    if (eol === -1) return out
    const size = Number.parseInt(text.slice(at, eol), 16)
    if (!size) return out
    out += text.slice(eol + 2, eol + 2 + size)
    at = eol + 2 + size + 2
  }
}
