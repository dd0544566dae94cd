// The head rules on their own: X-Accel-Buffering is required of a server, and only noted behind a proxy.
import { describe, expect, it } from 'vitest'
import { headProblems } from '../src/cases/headers.js'
import { describeBody, firstDifference, oneLine } from '../src/cases/util.js'

const head = (headers: Record<string, string>) => ({
  status: 200,
  headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', ...headers },
})

describe('headProblems', () => {
  it('requires X-Accel-Buffering: no from a server reached directly', () => {
    expect(headProblems(head({}), 'http1').join()).toMatch(/X-Accel-Buffering is null, expected "no"/)
    expect(headProblems(head({ 'x-accel-buffering': 'no' }), 'http1')).toEqual([])
  })

  it('notes its absence behind a proxy, or when the Server header says nginx, instead of failing', () => {
    const notes: string[] = []
    expect(headProblems(head({}), 'http1', true, (n) => notes.push(n))).toEqual([])
    expect(headProblems(head({ server: 'nginx/1.22.1' }), 'http1', false, (n) => notes.push(n))).toEqual([])
    expect(notes).toHaveLength(2)
    expect(notes[0]).toMatch(/behind a proxy .*judged by timing/)
    // A wrong value is still wrong behind a proxy: the proxy passed it on.
    expect(headProblems(head({ 'x-accel-buffering': 'yes' }), 'http1', true).join()).toMatch(/"yes"/)
  })
})

describe('failure reasons', () => {
  it('stay on one line and short', () => {
    const reason = oneLine(`a\n\nb ${'x'.repeat(2000)}`)
    expect(reason).not.toMatch(/\n/)
    expect(reason.length).toBeLessThan(700)
    expect(reason).toMatch(/^a b x+… \(2004 chars\)$/)
  })

  it('show an HTML error page by its title, not the page', () => {
    const page = `<!DOCTYPE html><html><head><title>Error</title></head><body><pre>SyntaxError: Unexpected end of JSON input<br> &nbsp; &nbsp;at JSON.parse</pre>${'<br>'.repeat(500)}</body></html>`
    const shown = describeBody(page)
    expect(shown).toMatch(/^an HTML page of \d+ chars titled "Error": "Error SyntaxError: Unexpected end/)
    expect(shown.length).toBeLessThan(200)
  })

  it('name the first differing characters of data that arrived altered', () => {
    expect(firstDifference('"hello"', 'hello')).toBe(
      'first difference at char 0: got "\\"hello\\"", expected "hello"',
    )
    expect(firstDifference('abcdefghijXY', 'abcdefghijZY')).toMatch(
      /at char 10: got "cdefghijXY", expected "cdefghijZY"/,
    )
  })
})
