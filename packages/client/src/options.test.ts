import { describe, expect, it } from 'vitest'
import { connect } from './client.js'
import { HeraldClientConfigError } from './errors.js'

const URL_OK = 'http://127.0.0.1:9/events'

function refusal(url: unknown, options: unknown): HeraldClientConfigError {
  try {
    connect(url as string, options as never).close()
  } catch (error) {
    expect(error).toBeInstanceOf(HeraldClientConfigError)
    return error as HeraldClientConfigError
  }
  throw new Error('connect() accepted it')
}

describe('connect() refuses bad input before any request, naming the option and the rule', () => {
  it.each([
    ['not a url', {}, 'url', 'must be an absolute URL'],
    [URL_OK, null, 'options', 'must be an object'],
    [URL_OK, { header: {} }, 'header', 'is not a connect() option'],
    [URL_OK, { toString: 5 }, 'toString', 'is not a connect() option'],
    [URL_OK, { reconnect: { constructor: 5 } }, 'reconnect.constructor', 'is not a reconnect option'],
    [URL_OK, { method: 'GE T' }, 'method', 'must be an HTTP method name'],
    [URL_OK, { method: 42 }, 'method', 'must be a string'],
    [URL_OK, { body: 'x' }, 'body', 'cannot be sent with GET'],
    [URL_OK, { method: 'POST', body: new ReadableStream() }, 'body', 'must not be a stream'],
    [URL_OK, { headers: { 'bad name': 'x' } }, 'headers', ''],
    [URL_OK, { headers: 'x' }, 'headers', 'must be an object or a function'],
    [URL_OK, { credentials: 'always' }, 'credentials', 'must be omit, same-origin or include'],
    [URL_OK, { topics: [''] }, 'topics', 'must be a non-empty string or an array of them'],
    [URL_OK, { topics: [1] }, 'topics', 'must be a non-empty string or an array of them'],
    [URL_OK, { lastEventId: 5 }, 'lastEventId', 'must be a string'],
    [URL_OK, { parse: { progress: 'yaml' } }, 'parse.progress', "must be 'json' or a function"],
    [URL_OK, { watchdogMs: -1 }, 'watchdogMs', 'must be an integer >= 0'],
    [URL_OK, { watchdogMs: Number.NaN }, 'watchdogMs', 'must be an integer >= 0'],
    [URL_OK, { rememberIds: 1.5 }, 'rememberIds', 'must be an integer >= 0'],
    [URL_OK, { maxEventLength: 0 }, 'maxEventLength', 'must be an integer >= 1'],
    [URL_OK, { reconnect: { initialDelay: 5 } }, 'reconnect.initialDelay', 'is not a reconnect option'],
    [URL_OK, { reconnect: { maxAttempts: 0 } }, 'reconnect.maxAttempts', 'must be an integer >= 1'],
    [
      URL_OK,
      { reconnect: { initialDelayMs: 40_000 } },
      'reconnect.maxDelayMs',
      'must be >= reconnect.initialDelayMs',
    ],
    [URL_OK, { onError: 'log' }, 'onError', 'must be a function'],
    [URL_OK, { signal: {} }, 'signal', 'must be an AbortSignal'],
    [URL_OK, { resetEvent: true }, 'resetEvent', 'must be an event name or false'],
  ])('%s %j → %s', (url, options, field, rule) => {
    const error = refusal(url, options)
    expect(error.field).toBe(field)
    expect(error.code).toBe('ERR_SSE_CONFIG')
    expect(error.message).toContain(`Invalid option ${field}: ${rule}`)
  })
})
