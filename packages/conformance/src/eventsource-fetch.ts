// Lets the `eventsource` client run over the suite's own HTTP client, so it speaks h2c too and sees
// exactly the bytes the other parsers see (decoded here the same way).
import { Readable } from 'node:stream'
import type { FetchLike } from 'eventsource'
import { decodeBody, type HttpClient } from './http.js'

/** A `fetch` for `new EventSource(url, { fetch })` that goes through `client`, adding `headers`. */
export function fetchVia(client: HttpClient, headers: Record<string, string> = {}): FetchLike {
  return async (url, init) => {
    const res = await client.request(new URL(url), { headers: { ...headers, ...init.headers } })
    const signal = init.signal as AbortSignal | undefined
    if (signal?.aborted) res.abort()
    signal?.addEventListener('abort', () => res.abort(), { once: true })
    const body = decodeBody(res.wire, res.headers['content-encoding'])
    return {
      status: res.status,
      url: String(url),
      redirected: false,
      headers: { get: (name: string) => res.headers[name.toLowerCase()] ?? null },
      body: Readable.toWeb(body) as ReadableStream<Uint8Array>,
    }
  }
}
