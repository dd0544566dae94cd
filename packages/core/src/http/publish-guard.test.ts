import { describe, expect, it } from 'vitest'
import { checkBearer, createPublishGuard } from './publish-guard.js'

const request = (extra: Partial<Parameters<ReturnType<typeof createPublishGuard>>[0]> = {}) => ({
  contentType: 'application/json',
  origin: undefined,
  host: 'app.example:3000',
  authorization: 'Bearer s3cret',
  ...extra,
})

describe('createPublishGuard', () => {
  const guard = createPublishGuard({ token: 's3cret', allowedOrigins: ['https://Admin.example/'] })

  it('lets JSON with the token through from no origin, its own origin or a listed one', () => {
    expect(guard(request())).toBeUndefined()
    expect(guard(request({ contentType: 'Application/JSON; charset=utf-8' }))).toBeUndefined()
    expect(guard(request({ origin: 'http://app.example:3000' }))).toBeUndefined()
    expect(guard(request({ origin: 'https://admin.example' }))).toBeUndefined()
    expect(guard(request({ authorization: 'bearer s3cret' }))).toBeUndefined()
  })

  it('refuses in order: Content-Type 415, Origin 403, token 401 / 403', () => {
    const status = (extra: Parameters<typeof request>[0]) => guard(request(extra))?.status
    expect(status({ contentType: undefined, origin: 'https://evil.example', authorization: undefined })).toBe(
      415,
    )
    expect(status({ contentType: 'text/plain' })).toBe(415)
    expect(status({ contentType: 'application/jsonp' })).toBe(415)
    expect(status({ origin: 'https://evil.example', authorization: undefined })).toBe(403)
    expect(status({ origin: 'http://app.example:3001' })).toBe(403)
    expect(status({ origin: 'null' })).toBe(403)
    expect(status({ origin: 'http://app.example:3000', host: undefined })).toBe(403)
    expect(status({ authorization: undefined })).toBe(401)
    expect(status({ authorization: 'Bearer s3cre' })).toBe(403)
    expect(status({ authorization: 'Bearer s3cret2' })).toBe(403)
    expect(status({ authorization: 'Basic s3cret' })).toBe(403)
    expect(guard(request({ contentType: undefined }))?.body).toEqual({
      error: 'Content-Type must be application/json, got none',
    })
  })

  it('rejects a policy without a usable token or with something that is not an origin', () => {
    expect(() => createPublishGuard({ token: '' })).toThrow(/Invalid option token/)
    expect(() => createPublishGuard({ token: 'a b' })).toThrow(/without spaces/)
    expect(() => createPublishGuard({ token: 't', allowedOrigins: ['https://x.example/admin'] })).toThrow(
      /allowedOrigins: "https:\/\/x.example\/admin" is not an origin/,
    )
    expect(() => createPublishGuard({ token: 't', allowedOrigins: ['x.example'] })).toThrow(/allowedOrigins/)
  })
})

describe('checkBearer', () => {
  it('answers true, 401 without a header, 403 with another token', () => {
    expect(checkBearer('Bearer t0k', 't0k')).toBe(true)
    expect(checkBearer(undefined, 't0k')).toMatchObject({ status: 401 })
    expect(checkBearer('', 't0k')).toMatchObject({ status: 401 })
    expect(checkBearer('Bearer t0', 't0k')).toMatchObject({ status: 403 })
  })
})
