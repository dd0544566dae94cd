import { HeraldConfigError } from '../errors.js'
import type { AuthorizeRefusal } from '../types.js'
import type { PublishOutcome, PublishStatus } from './publish-body.js'

/** The request facts a publish endpoint checks before it reads the body (header values, if any). */
export interface PublishRequest {
  contentType: string | null | undefined
  origin: string | null | undefined
  /** The `Host` header (`:authority` on HTTP/2): a page of the app's own origin may always publish. */
  host: string | null | undefined
  authorization: string | null | undefined
}

/** Who may publish. */
export interface PublishPolicy {
  /** The secret a publisher sends as `Authorization: Bearer <token>`. */
  token: string
  /** Origins allowed besides the app's own, e.g. `https://admin.example.com`. Default: none. */
  allowedOrigins?: readonly string[]
}

const JSON_TYPE = /^application\/json\s*(;|$)/i

/** Compares two secrets in time that depends on their lengths only, not on where they differ. */
function sameSecret(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length
  for (let i = 0; i < expected.length; i++) diff |= (given.charCodeAt(i) || 0) ^ expected.charCodeAt(i)
  return diff === 0
}

/**
 * Checks an `Authorization: Bearer <token>` header: true when it carries `token`, `{ status: 401 }`
 * when there is none, `{ status: 403 }` when it carries another. Fits `authorize` as it is.
 *
 * @example
 * app.get('/events-private', sse(hub, { authorize: (req) => checkBearer(req.get('authorization'), token) }))
 */
export function checkBearer(header: string | null | undefined, token: string): true | AuthorizeRefusal {
  if (!header) return { status: 401, reason: 'Unauthorized: send Authorization: Bearer <token>' }
  const match = /^Bearer +(\S+) *$/i.exec(header)
  if (match && sameSecret(match[1]!, token)) return true
  return { status: 403, reason: 'Forbidden: the token is not valid here' }
}

/**
 * Makes the request check of a publish endpoint, run before the body is read. In order:
 * - `Content-Type` must be `application/json` (parameters allowed), else 415. No header is refused too:
 *   a cross-site `fetch(url, { mode: 'no-cors' })` or `navigator.sendBeacon` cannot send JSON's type
 *   without a CORS preflight, which is what keeps other sites' pages from publishing through a browser;
 * - an `Origin` header, when present, must be the app's own (its host equals `Host`) or listed, else 403;
 * - `Authorization: Bearer <token>` must carry the token: 401 without one, 403 with another.
 * The check answers a refusal (status and `{ error }`), or undefined to go on. Throws `HeraldConfigError`
 * for a policy without a token or with an origin that is not one.
 *
 * @example
 * const guard = createPublishGuard({ token: process.env.PUBLISH_TOKEN })
 * app.post('/publish', (req, res, next) => {
 *   const refused = guard({ contentType: req.get('content-type'), origin: req.get('origin'),
 *     host: req.get('host'), authorization: req.get('authorization') })
 *   if (refused) res.status(refused.status).json(refused.body)
 *   else next()
 * }, express.json(), async (req, res) => { ... publishFromBody ... })
 */
export function createPublishGuard(
  policy: PublishPolicy,
): (request: PublishRequest) => PublishOutcome | undefined {
  if (policy === null || typeof policy !== 'object')
    throw new HeraldConfigError('policy', 'must be an object')
  const { token } = policy
  if (typeof token !== 'string' || token === '' || /\s/.test(token)) {
    throw new HeraldConfigError('token', 'must be a non-empty string without spaces')
  }
  const allowed = new Set<string>()
  for (const origin of policy.allowedOrigins ?? []) {
    let parsed: URL | undefined
    try {
      parsed = new URL(origin)
    } catch {}
    // What a browser sends: scheme, host and port only, lower-cased (so `https://Admin.example/` is fine).
    if (!parsed || parsed.origin === 'null' || parsed.pathname !== '/' || parsed.search || parsed.hash) {
      throw new HeraldConfigError(
        'allowedOrigins',
        `${JSON.stringify(origin)} is not an origin (scheme://host[:port], no path)`,
      )
    }
    allowed.add(parsed.origin)
  }
  const refuse = (status: PublishStatus, error: string): PublishOutcome => ({ status, body: { error } })
  return (request) => {
    const { contentType, origin, host, authorization } = request
    if (!contentType || !JSON_TYPE.test(contentType)) {
      return refuse(415, `Content-Type must be application/json, got ${contentType || 'none'}`)
    }
    if (origin && !allowed.has(origin) && !sameHost(origin, host)) {
      return refuse(
        403,
        `Origin ${origin} may not publish here (allowed: this app's own origin and listed ones)`,
      )
    }
    const verdict = checkBearer(authorization, token)
    if (verdict !== true) return refuse(verdict.status, verdict.reason!)
    return undefined
  }
}

/** Whether `origin` names the host the request was sent to (a page of the app itself). */
function sameHost(origin: string, host: string | null | undefined): boolean {
  if (!host) return false
  try {
    return new URL(origin).host === host.toLowerCase()
  } catch {
    return false
  }
}
