// The CLI as a user runs it: a child process pointed at a real server, judged by its table and exit code.
import { createHub } from '@herald/sse-core'
import { describe, expect, it } from 'vitest'
import { startBroken } from './fixtures/broken-express.js'
import { cli, row } from './fixtures/processes.js'
import { start } from './fixtures/reference-server.js'

describe('herald-conformance CLI', () => {
  it('passes a correct server and exits 0', async () => {
    const server = await start()
    try {
      const { code, stdout } = await cli([
        `${server.url}/events`,
        '--publish-url',
        `${server.url}/publish`,
        '--auth-url',
        `${server.url}/events-private`,
        '--burst',
        '1000',
      ])
      expect(stdout).toMatch(/^RESULT\s+PROTOCOL\s+CHECK\s+TIME$/m)
      for (const check of [
        'headers.immediate',
        'compression.per-event',
        'encoding.round-trip',
        'replay.header',
        'limits.authorize',
      ]) {
        expect(row(stdout, 'PASS', check), `${check} in\n${stdout}`).toBe(true)
      }
      expect(row(stdout, 'SKIP', 'heartbeat.idle')).toBe(true)
      expect(stdout).toMatch(/\n\d+ passed, 0 failed, \d+ skipped\n$/)
      expect(code).toBe(0)
    } finally {
      await server.close()
    }
  }, 60_000)

  it('fails the Express handler that never flushes behind compression, with reasons, and exits 1', async () => {
    const server = await startBroken({ noFlush: true })
    try {
      const { code, stdout } = await cli([
        `${server.url}/events`,
        '--publish-url',
        `${server.url}/publish`,
        '--only',
        'headers.immediate,compression.per-event',
      ])
      expect(row(stdout, 'FAIL', 'headers.immediate'), stdout).toBe(true)
      expect(row(stdout, 'FAIL', 'compression.per-event'), stdout).toBe(true)
      expect(stdout).toMatch(/reason: Cache-Control "no-cache" lacks no-transform/)
      expect(stdout).toMatch(/reason: event 1 of 5 was not decodable 2000 ms after publish/)
      expect(stdout).toMatch(/0 passed, 2 failed, 0 skipped/)
      expect(code).toBe(1)
    } finally {
      await server.close()
    }
  }, 60_000)

  it('talks h2c with --h2 and uses the --topic prefix', async () => {
    const topics: string[] = []
    const server = await start({
      http2: true,
      hub: createHub({ onSubscribe: (sub) => topics.push(...sub.topics) }),
    })
    try {
      const { code, stdout } = await cli([
        `${server.url}/events`,
        '--publish-url',
        `${server.url}/publish`,
        '--h2',
        '--topic',
        'sample-check-',
        '--only',
        'headers.immediate,compression.per-event,http2.multiplex',
      ])
      for (const check of ['headers.immediate', 'compression.per-event', 'http2.multiplex']) {
        expect(new RegExp(`^PASS\\s+h2c\\s+${check.replace('.', '\\.')}\\s`, 'm').test(stdout), stdout).toBe(
          true,
        )
      }
      expect(code).toBe(0)
      expect(topics.length).toBeGreaterThan(3)
      expect(topics.filter((t) => !t.startsWith('sample-check-'))).toEqual([])
    } finally {
      await server.close()
    }
  }, 60_000)

  it('checks heartbeats at the interval --heartbeat-ms names, and fails a server that keeps another', async () => {
    const server = await start({ hub: createHub({ heartbeatMs: 150 }) })
    try {
      const args = [`${server.url}/events`, '--only', 'heartbeat.idle', '--heartbeat-ms']
      const right = await cli([...args, '150'])
      expect(row(right.stdout, 'PASS', 'heartbeat.idle'), right.stdout).toBe(true)
      expect(right.code).toBe(0)
      const wrong = await cli([...args, '1000'])
      expect(row(wrong.stdout, 'FAIL', 'heartbeat.idle'), wrong.stdout).toBe(true)
      expect(wrong.stdout).toMatch(/reason: .*ms apart \(interval 1000 ms\)/)
      expect(wrong.code).toBe(1)
    } finally {
      await server.close()
    }
  }, 60_000)

  it('runs the sse profile by default, and the sample-app conventions with --profile herald-app', async () => {
    const server = await start()
    try {
      const args = [`${server.url}/events`, '--publish-url', `${server.url}/publish`, '--burst', '100']
      const sse = await cli(args)
      expect(row(sse.stdout, 'PASS', 'encoding.round-trip'), sse.stdout).toBe(true)
      for (const check of ['publish.fields', 'publish.body-limit', 'page.html', 'replay.reset'])
        expect(sse.stdout).not.toMatch(new RegExp(`\\s${check.replace('.', '\\.')}\\s`))
      expect(sse.code).toBe(0)
      const app = await cli([...args, '--profile', 'herald-app'])
      for (const check of ['publish.fields', 'publish.body-limit', 'page.html', 'replay.reset'])
        expect(row(app.stdout, 'PASS', check), `${check} in\n${app.stdout}`).toBe(true)
      expect(app.code).toBe(0)
    } finally {
      await server.close()
    }
  }, 60_000)

  it('sends --header with every events request, so a guarded events route can be checked', async () => {
    const server = await start()
    try {
      const args = [
        `${server.url}/events-private`,
        '--publish-url',
        `${server.url}/publish`,
        '--only',
        'headers.immediate,encoding.round-trip,browser.eventsource',
      ]
      const without = await cli(args)
      expect(row(without.stdout, 'FAIL', 'headers.immediate'), without.stdout).toBe(true)
      expect(without.stdout).toMatch(/reason: status 401, expected 200/)
      const withHeader = await cli([...args, '--header', 'Authorization: Bearer conformance'])
      expect(row(withHeader.stdout, 'PASS', 'headers.immediate'), withHeader.stdout).toBe(true)
      expect(row(withHeader.stdout, 'PASS', 'encoding.round-trip'), withHeader.stdout).toBe(true)
      expect(row(withHeader.stdout, 'SKIP', 'browser.eventsource'), withHeader.stdout).toBe(true)
      expect(withHeader.stdout).toMatch(/why: the events route needs headers \(--header\)/)
      expect(withHeader.code).toBe(0)
    } finally {
      await server.close()
    }
  }, 60_000)

  it('refuses an unknown profile and a malformed --publish-header', async () => {
    const profile = await cli(['http://127.0.0.1:9/events', '--profile', 'strict'])
    expect(profile.stderr).toMatch(/--profile must be one of sse, herald-app, got "strict"/)
    expect(profile.code).toBe(2)
    const header = await cli(['http://127.0.0.1:9/events', '--publish-header', 'no colon here'])
    expect(header.stderr).toMatch(/--publish-header must be "Name: value"/)
    expect(header.code).toBe(2)
  }, 30_000)

  it('explains bad usage and exits 2', async () => {
    const { code, stderr } = await cli(['not a url'])
    expect(stderr).toMatch(/<events-url> must be an absolute http:\/\/ URL/)
    expect(stderr).toMatch(/Usage: herald-conformance/)
    expect(code).toBe(2)
  }, 30_000)
})
