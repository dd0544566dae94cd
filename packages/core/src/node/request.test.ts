import { createServer, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { expect, it } from 'vitest'
import { lastEventIdHeader } from './request.js'

/** A real request with these raw header lines, as the server parsed it. */
async function received(headerLines: string[]): Promise<IncomingMessage> {
  let seen: IncomingMessage | undefined
  const server = createServer((req, res) => {
    seen = req
    res.end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(`GET /events HTTP/1.1\r\nHost: x\r\n${headerLines.map((l) => `${l}\r\n`).join('')}\r\n`),
    )
    socket.once('data', () => {
      socket.destroy()
      resolve()
    })
    socket.once('error', reject)
  })
  await new Promise((r) => server.close(r))
  return seen!
}

it('reads Last-Event-ID in any case from the raw headers, as req.headers would give it', async () => {
  for (const lines of [
    [],
    ['Last-Event-ID: 42'],
    ['last-event-id: a b'],
    ['LAST-EVENT-ID: 1', 'last-event-id: 2'],
    ['X-Last-Event-ID: no', 'Last-Event-Ids: no'],
  ]) {
    const req = await received(lines)
    const fromRaw = lastEventIdHeader(req)
    expect(fromRaw).toBe(req.headers['last-event-id'])
  }
})

it('falls back to headers when a request has no raw headers', () => {
  expect(lastEventIdHeader({ headers: { 'last-event-id': '7' } })).toBe('7')
  expect(lastEventIdHeader({ headers: {} })).toBeUndefined()
})
