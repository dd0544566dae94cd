// SIGTERM while a sample app serves many streams: the app is started as `pnpm start` would (its
// src/main.ts in a child process), loaded with streams, signalled, and watched until it exits.
import { type ChildProcess, spawn } from 'node:child_process'
import http from 'node:http'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { waitFor } from './wait.js'

export interface ShutdownUnderLoadOptions {
  /** The app's folder (its `src/main.ts` is started). */
  appDir: string
  /** Streams open when the signal arrives. Default 1000. */
  streams?: number
  /** The drain deadline the process must exit within, from the signal. Default 10 000 ms (the hub's). */
  deadlineMs?: number
  /** The event every stream must end with, before the retry hint. Default `shutdown`. */
  finalEvent?: string
  /** The `retry:` hint every stream must end with. Default 1000. */
  retryMs?: number
}

interface Probe {
  kind: 'stream' | 'publish'
  status?: number
  retryAfter?: string
  error?: string
}

// tsx as a loader inside one node process (not its CLI, which relays signals to a second process): the
// signal reaches the app itself, as it would reach `node dist/main.js` in production.
const publishToken = 'shutdown-publish'

/** GET `url` on its own connection; resolves with the status and the whole body once the server ends it. */
function stream(
  url: string,
  localAddress: string,
  onHeaders: () => void,
): Promise<{ status: number; text: string; error?: string }> {
  return new Promise((resolve) => {
    let text = ''
    let status = 0
    const req = http.get(
      url,
      { agent: false, localAddress, headers: { accept: 'text/event-stream' } },
      (res) => {
        status = res.statusCode ?? 0
        onHeaders()
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          // Only the end matters, and whether the one published event arrived.
          text = (text + chunk).slice(-400)
        })
        res.on('end', () => resolve({ status, text }))
        res.on('error', (error) => resolve({ status, text, error: error.message }))
      },
    )
    req.on('error', (error) =>
      resolve({ status, text, error: (error as NodeJS.ErrnoException).code ?? error.message }),
    )
  })
}

/** One request after the signal, on a fresh connection: its status and Retry-After, or the socket error. */
function probe(url: string, kind: 'stream' | 'publish'): Promise<Probe> {
  return new Promise((resolve) => {
    const body = kind === 'publish' ? JSON.stringify({ topic: 'late', data: 'after the signal' }) : undefined
    const req = http.request(
      url,
      {
        agent: false,
        method: body === undefined ? 'GET' : 'POST',
        headers:
          body === undefined
            ? { accept: 'text/event-stream' }
            : {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(body),
                authorization: `Bearer ${publishToken}`,
              },
      },
      (res) => {
        // A stream admitted just before the signal took effect stays open until the hub ends it: read it
        // in the background, the answer is its status.
        res.resume()
        res.on('error', () => {})
        resolve({ kind, status: res.statusCode, retryAfter: res.headers['retry-after'] })
      },
    )
    req.on('error', (error) =>
      resolve({ kind, error: (error as NodeJS.ErrnoException).code ?? error.message }),
    )
    req.end(body)
  })
}

/**
 * Registers a test: start the app, open `streams` streams, publish one event to all, send SIGTERM, keep
 * sending requests (streams and publishes, alternately) until the process is gone. Every stream must end
 * with `finalEvent` and the retry hint, the process must exit 0 within `deadlineMs` with nothing on
 * stderr, and no request after the signal may see a reset connection: a 503 with Retry-After while the
 * app drains (at least one stream and one publish), a refused connection once it has stopped listening.
 */
export function describeShutdownUnderLoad(name: string, options: ShutdownUnderLoadOptions): void {
  const {
    appDir,
    streams: count = 1000,
    deadlineMs = 10_000,
    finalEvent = 'shutdown',
    retryMs = 1000,
  } = options
  let child: ChildProcess | undefined
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })

  it(`${name}: SIGTERM with ${count} open streams ends each with ${finalEvent} and retry, 503s latecomers, exits 0`, async () => {
    // The app's own tsx (a devDependency of every sample app), found from its folder.
    const tsx = pathToFileURL(createRequire(join(appDir, 'package.json')).resolve('tsx')).href
    child = spawn(process.execPath, ['--import', tsx, '--conditions=@herald/source', 'src/main.ts'], {
      cwd: appDir,
      env: {
        ...process.env,
        PORT: '0',
        PUBLISH_TOKEN: publishToken,
        EVENTS_TOKEN: 'shutdown-events',
        NODE_OPTIONS: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (b) => {
      stdout += b
    })
    child.stderr?.on('data', (b) => {
      stderr += b
    })
    let exitedAt = 0
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child?.once('exit', (code, signal) => {
        exitedAt = performance.now()
        resolve({ code, signal })
      }),
    )
    await waitFor(
      () => /http:\/\/\S+:\d+/.test(stdout) || child?.exitCode !== null,
      'the app to print its URL',
      30_000,
    )
    const base = /http:\/\/\S+:(\d+)/.exec(stdout)
    expect(base, `no URL printed; stderr: ${stderr}`).not.toBeNull()
    const origin = `http://127.0.0.1:${base![1]}`

    let open = 0
    const results: Array<Promise<{ status: number; text: string; error?: string }>> = []
    for (let i = 0; i < count; i += 100) {
      // From 100 loopback addresses: the apps allow 256 streams per client address.
      const batch = Array.from({ length: Math.min(100, count - i) }, (_, j) =>
        stream(`${origin}/events?topic=load`, `127.0.0.${2 + j}`, () => open++),
      )
      results.push(...batch)
      await waitFor(() => open >= i + batch.length, `${i + batch.length} streams open (${open})`, 20_000)
    }
    const published = await fetch(`${origin}/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${publishToken}` },
      body: JSON.stringify({ topic: 'load', data: 'before the signal' }),
    })
    expect(published.status).toBe(200)
    await published.text()

    const signalledAt = performance.now()
    child.kill('SIGTERM')
    // Latecomers, one after another on fresh connections, alternately a stream and a publish, while the
    // app drains: until three of each got their 503, or the app no longer listens.
    const late: Probe[] = []
    const refused = (kind: Probe['kind']) => late.filter((p) => p.kind === kind && p.status === 503)
    while (exitedAt === 0 && (refused('stream').length < 3 || refused('publish').length < 3)) {
      const answer =
        late.length % 2 === 0
          ? await probe(`${origin}/events?topic=late`, 'stream')
          : await probe(`${origin}/publish`, 'publish')
      late.push(answer)
      if (answer.error !== undefined) break
      await new Promise((r) => setTimeout(r, 5))
    }
    const { code, signal } = await exited
    const ends = await Promise.all(results)

    expect({ code, signal }).toEqual({ code: 0, signal: null })
    expect(stderr).toBe('')
    expect(exitedAt - signalledAt).toBeLessThan(deadlineMs)
    const tail = `event: ${finalEvent}\n`
    const bad = ends.filter(
      (e) =>
        e.status !== 200 ||
        e.error !== undefined ||
        !e.text.includes('data: before the signal\n') ||
        !e.text.includes(tail) ||
        !e.text.endsWith(`retry: ${retryMs}\n\n`),
    )
    expect(bad.length, `streams without the final event and hint, e.g. ${JSON.stringify(bad[0])}`).toBe(0)
    for (const kind of ['stream', 'publish'] as const) {
      expect(
        refused(kind).length,
        `no ${kind} after the signal got a 503: ${JSON.stringify(late.slice(0, 6))}`,
      ).toBeGreaterThan(0)
      for (const p of refused(kind)) expect(Number(p.retryAfter), `${kind} Retry-After`).toBeGreaterThan(0)
    }
    // Admitted just before the signal took effect (a stream that then ended, a publish that went out), a
    // 503, or no listener any more.
    const resets = late.filter((p) => p.error !== undefined && p.error !== 'ECONNREFUSED')
    expect(resets, 'requests after the signal that saw a reset connection').toEqual([])
    for (const p of late) if (p.status !== undefined) expect([200, 503]).toContain(p.status)
  }, 120_000)
}
