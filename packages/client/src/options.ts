import { HeraldClientConfigError } from './errors.js'
import type { ConnectOptions, EventMap } from './types.js'

// Every option and the types it may have: f(unction), s(tring), o(bject), b(oolean), n (integer >= 0),
// N (integer >= 1). Listed once so that a misspelt option is an error rather than a silent default.
const TYPES: Record<string, string> = {
  method: 's',
  headers: 'of',
  body: 'sof',
  credentials: 's',
  signal: 'o',
  lastEventId: 's',
  lastEventIdQuery: 'bs',
  topics: 'so',
  parse: 'o',
  reconnect: 'o',
  'reconnect.initialDelayMs': 'n',
  'reconnect.maxDelayMs': 'n',
  'reconnect.maxAttempts': 'N',
  watchdogMs: 'n',
  rememberIds: 'n',
  maxEventLength: 'N',
  resetEvent: 'bs',
  gapEvent: 'bs',
  fetch: 'f',
  onOpen: 'f',
  onReconnecting: 'f',
  onError: 'f',
  onReset: 'f',
  onGap: 'f',
  onRetryHint: 'f',
}
const NAMES: Record<string, string> = { f: 'a function', s: 'a string', o: 'an object', b: 'a boolean' }

function check(field: string, ok: unknown, rule: string): void {
  if (!ok) throw new HeraldClientConfigError(field, rule)
}

function checkTypes(prefix: string, options: object): void {
  check(prefix || 'options', options && typeof options === 'object', 'must be an object')
  for (const [key, value] of Object.entries(options)) {
    const field = prefix + key
    const types = Object.hasOwn(TYPES, field) ? TYPES[field] : undefined
    check(field, types, `is not a ${prefix ? `${prefix.slice(0, -1)} ` : 'connect() '}option`)
    if (value === undefined) continue
    if (/n/i.test(types!)) {
      const min = types === 'N' ? 1 : 0
      check(
        field,
        (Number.isSafeInteger(value) || value === Infinity) && value >= min,
        `must be an integer >= ${min}`,
      )
    } else {
      const names = [...types!].map((t) => NAMES[t]).join(' or ')
      check(field, types!.includes((typeof value)[0]!) && value !== null, `must be ${names}`)
    }
  }
}

/**
 * Checks `url` and `options` (throws `HeraldClientConfigError` naming the first bad one) and returns the
 * URL to request, with the topics added.
 */
export function checkOptions(url: unknown, options: ConnectOptions<EventMap>): URL {
  checkTypes('', options)
  const { method = 'GET', body, credentials, headers, parse = {}, reconnect = {} } = options
  checkTypes('reconnect.', reconnect)
  let target: URL | undefined
  try {
    // Relative URLs resolve against the page, as EventSource's do.
    target = new URL(url as string, (globalThis as { location?: { href: string } }).location?.href)
  } catch {}
  check('url', target, `must be an absolute URL (relative in a page), got ${String(url)}`)
  check('method', /^[!#$%&'*+.^_`|~\w-]+$/.test(method), 'must be an HTTP method name')
  if (body !== undefined) {
    check('body', !/^(GET|HEAD)$/i.test(method), `cannot be sent with ${method}`)
    check('body', !(body instanceof ReadableStream), 'must not be a stream (it is sent again on reconnect)')
  }
  check(
    'credentials',
    /^(omit|same-origin|include|)$/.test(credentials ?? ''),
    'must be omit, same-origin or include',
  )
  if (typeof headers === 'object') {
    try {
      new Headers(headers)
    } catch (error) {
      check('headers', 0, (error as Error).message)
    }
  }
  const topics = [options.topics ?? []].flat()
  check(
    'topics',
    topics.every((t) => typeof t === 'string' && t),
    'must be a non-empty string or an array of them',
  )
  for (const topic of topics) target!.searchParams.append('topic', topic)
  for (const name in parse) {
    const p = (parse as Record<string, unknown>)[name]
    check(`parse.${name}`, p === 'json' || typeof p === 'function', "must be 'json' or a function")
  }
  check(
    'reconnect.maxDelayMs',
    (reconnect.maxDelayMs ?? 30_000) >= (reconnect.initialDelayMs ?? 1000),
    'must be >= reconnect.initialDelayMs',
  )
  const { signal } = options
  check('signal', !signal || typeof signal.addEventListener === 'function', 'must be an AbortSignal')
  check('fetch', options.fetch ?? globalThis.fetch, 'is required (no global fetch here)')
  check('resetEvent', (options.resetEvent as unknown) !== true, 'must be an event name or false')
  check('gapEvent', (options.gapEvent as unknown) !== true, 'must be an event name or false')
  return target!
}
