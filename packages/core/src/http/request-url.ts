// Only path and query of a request matter to the core; the origin is a placeholder.
const BASE = 'http://localhost'

/**
 * The URL of a request, from a `URL` or the request target as the server received it: a path with its
 * query, or an absolute URL (`GET http://host/events?topic=t HTTP/1.1` is valid HTTP). Undefined when it
 * cannot be parsed (say `http://a:99999/events`, a port out of range), so the caller can answer 400.
 * Never throws.
 */
export function parseRequestUrl(url: unknown): URL | undefined {
  if (url instanceof URL) return url
  if (typeof url !== 'string') return undefined
  try {
    return new URL(url, BASE)
  } catch {
    return undefined
  }
}
