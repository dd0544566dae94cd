// Runs checks against either a target the suite starts itself (vitest) or a server that is already
// running (the CLI). Both paths build the same CaseContext, so a check never knows which one it is in.
import { existsSync } from 'node:fs'
import type { Hub, HubOptions } from '@herald/sse-core'
import type { Browser } from 'playwright-core'
import { allCases, casesOf } from './cases/index.js'
import { describeBody, oneLine } from './cases/util.js'
import { HttpClient, type Protocol } from './http.js'
import { openStream, type SseStream } from './sse.js'
import {
  type CaseContext,
  type CaseResult,
  type ConformanceCase,
  type ConformanceTarget,
  PROFILES,
  type Profile,
  type PublishInput,
  type RunSettings,
  type ServerUnderTest,
  SkipCase,
} from './target.js'

/** Starts servers for the checks: a target in vitest mode, or the one running server for the CLI. */
export interface ServerSource {
  readonly configurable: boolean
  /** A hub configured like the ones `start` creates (vitest mode only). */
  createHub?(options?: HubOptions): Hub
  start(
    protocol: Protocol,
    options?: HubOptions,
    listen?: { port?: number; hub?: Hub },
  ): Promise<ServerUnderTest>
}

/** The URLs of a server that is already running, for {@link checkServer}. */
export interface RunningServer {
  eventsUrl: string | URL
  publishUrl?: string | URL
  /** A page with an `EventSource` (for the browser check). Default: `/` on the events origin. */
  pageUrl?: string | URL
  /** A route following the `auth` convention of {@link ConformanceTarget} (401 / 403). */
  authUrl?: string | URL
  /** Compression middleware is in front of every route (see {@link ConformanceTarget}). */
  compression?: boolean
  /** Headers sent with every publish request (see {@link ConformanceTarget}). */
  publishHeaders?: Record<string, string>
  /** Headers sent with every events request the checks open (not the refusal checks'), e.g. a token. */
  eventsHeaders?: Record<string, string>
}

/** A server source for a server that is already running. Checks that configure a hub are skipped. */
export function runningServer(server: RunningServer): ServerSource {
  const eventsUrl = new URL(server.eventsUrl)
  const resolved: ServerUnderTest = {
    eventsUrl,
    publishUrl: server.publishUrl === undefined ? undefined : new URL(server.publishUrl),
    publishHeaders: { ...server.publishHeaders },
    eventsHeaders: { ...server.eventsHeaders },
    pageUrl: new URL(server.pageUrl ?? '/', eventsUrl),
    authUrl: server.authUrl === undefined ? undefined : new URL(server.authUrl),
    hub: undefined,
    port: Number(eventsUrl.port || (eventsUrl.protocol === 'https:' ? 443 : 80)),
    compression: server.compression === true,
    close: async () => {},
  }
  return {
    configurable: false,
    async start(_protocol, options, listen) {
      if (options !== undefined || listen !== undefined) {
        throw new SkipCase('needs a hub the suite configures (vitest runConformance only)')
      }
      return resolved
    },
  }
}

type CreateHub = (options?: HubOptions) => Hub

/** A server source that starts `target` with a hub of the check's choosing. */
export function targetServer(target: ConformanceTarget, createHub: CreateHub): ServerSource {
  const paths = { events: '/events', publish: '/publish', page: '/', ...target.paths }
  return {
    configurable: true,
    createHub: (options) => createHub({ ...target.hubOptions, ...options }),
    async start(protocol, options, listen) {
      const hub = listen?.hub ?? createHub({ ...target.hubOptions, ...options })
      const started = await target.start({
        hub,
        port: listen?.port ?? 0,
        ...(protocol === 'h2' ? { http2: true } : {}),
      })
      if (started.hub !== undefined && started.hub !== hub) {
        await started.close()
        throw new Error('start() returned a hub other than the one it was given: it must serve options.hub')
      }
      const base = new URL(started.url)
      let closing: Promise<void> | undefined
      return {
        eventsUrl: new URL(paths.events, base),
        publishUrl: new URL(paths.publish, base),
        publishHeaders: { ...target.publishHeaders },
        eventsHeaders: {},
        pageUrl: new URL(paths.page, base),
        authUrl: target.auth ? new URL(target.auth.path, base) : undefined,
        hub,
        port: Number(base.port),
        compression: target.compression === true,
        // Checks may stop a server themselves (the browser restart); the cleanup then must not close twice.
        // A hub the suite made is the suite's to close (its heartbeat timer would outlive the check).
        close: () => {
          closing ??= started.close().then(async () => {
            if (listen?.hub === undefined && !hub.closed) await hub.close()
          })
          return closing
        },
      }
    },
  }
}

/** Launches Chromium once, on first use, for every check of a run. */
export class BrowserPool {
  private launching: Promise<Browser> | undefined
  private readonly executablePath: string

  /** `executablePath` defaults to `HERALD_CHROMIUM`, else Debian's `/usr/bin/chromium`. */
  constructor(executablePath = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium') {
    this.executablePath = executablePath
  }

  /** The shared browser, or a {@link SkipCase} (an Error when `HERALD_REQUIRE_BROWSER=1`) if there is none. */
  async get(): Promise<Browser> {
    const unavailable = (reason: string): never => {
      if (process.env.HERALD_REQUIRE_BROWSER === '1') throw new Error(`${reason}; HERALD_REQUIRE_BROWSER=1`)
      throw new SkipCase(reason)
    }
    if (!existsSync(this.executablePath)) {
      unavailable(
        `Chromium not found at ${this.executablePath} (install the chromium package or set HERALD_CHROMIUM)`,
      )
    }
    try {
      await import('playwright-core')
    } catch {
      unavailable('playwright-core is not installed (a peer dependency of the browser checks)')
    }
    this.launching ??= import('playwright-core').then(({ chromium }) =>
      chromium.launch({
        executablePath: this.executablePath,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      }),
    )
    return this.launching
  }

  async close(): Promise<void> {
    const launching = this.launching
    this.launching = undefined
    if (launching) await (await launching.catch(() => undefined))?.close()
  }
}

/** Shared by every check of one run. */
export interface RunEnvironment {
  source: ServerSource
  browsers: BrowserPool
  artifactsDir: string
  /** Capture warnings and error output of this process (the server runs in it: vitest mode). */
  captureErrors: boolean
  settings?: Partial<RunSettings>
}

let topicCounter = 0

/** Runs one check over one protocol and returns its row. Never throws. */
export async function runCase(
  check: ConformanceCase,
  protocol: Protocol,
  env: RunEnvironment,
): Promise<CaseResult> {
  const started = performance.now()
  const notes: string[] = []
  const cleanups: (() => unknown)[] = []
  const client = new HttpClient(protocol)
  const errors = env.captureErrors ? captureErrorOutput() : undefined
  const result = (status: CaseResult['status'], reason?: string): CaseResult => ({
    id: check.id,
    title: check.title,
    protocol,
    status,
    ...(reason === undefined ? {} : { reason }),
    notes,
    ms: Math.round(performance.now() - started),
  })

  const ctx: CaseContext = {
    protocol,
    client,
    configurable: env.source.configurable,
    artifactsDir: env.artifactsDir,
    settings: { burstEvents: 10_000, topicPrefix: 'conformance-', behindProxy: false, ...env.settings },
    topic: (label = check.id) =>
      `${ctx.settings.topicPrefix}${label.replace(/[^a-z0-9]+/gi, '-')}-${process.pid}-${++topicCounter}`,
    async server(options, listen) {
      const server = await env.source.start(protocol, options, listen)
      cleanups.push(() => server.close())
      return server
    },
    async connect(server, topics, options = {}) {
      const url = new URL(server.eventsUrl)
      for (const topic of typeof topics === 'string' ? [topics] : topics)
        url.searchParams.append('topic', topic)
      for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value)
      const stream: SseStream = await openStream(client, url, {
        ...options,
        headers: { ...server.eventsHeaders, ...options.headers },
      })
      cleanups.push(() => stream.close())
      return stream
    },
    async publish(server, topic, input: PublishInput) {
      const { status, body } = await ctx.publishRaw(server, JSON.stringify({ topic, ...input }))
      if (status < 200 || status > 299)
        throw new Error(`POST ${server.publishUrl?.pathname} answered ${status}: ${describeBody(body)}`)
      // The contract: 2xx, with an optional JSON { "id": string } (the id the event carries on the stream).
      let id: unknown
      try {
        id = (JSON.parse(body) as { id?: unknown } | null)?.id
      } catch {
        return undefined
      }
      if (id === undefined) return undefined
      if (typeof id !== 'string' || id === '') {
        throw new Error(
          `POST ${server.publishUrl?.pathname} answered ${status} with an "id" that is not a non-empty string: ${describeBody(body)}`,
        )
      }
      return id
    },
    requireId(id, what) {
      if (id !== undefined) return id
      throw new SkipCase(
        `${what} needs the event ids: POST /publish answered without { "id" } (the publish contract makes it optional)`,
      )
    },
    async publishRaw(server, body) {
      if (server.publishUrl === undefined) throw new SkipCase('needs a publish URL (--publish-url)')
      const res = await client.text(server.publishUrl, {
        method: 'POST',
        headers: { ...server.publishHeaders, 'content-type': 'application/json' },
        body,
      })
      return { status: res.status, body: res.body }
    },
    note: (text) => notes.push(text),
    skip: (reason) => {
      throw new SkipCase(reason)
    },
    defer: (fn) => cleanups.push(fn),
    createHub(options) {
      if (!env.source.createHub)
        throw new SkipCase('needs a hub the suite configures (vitest runConformance only)')
      const hub = env.source.createHub(options)
      cleanups.push(() => (hub.closed ? undefined : hub.close()))
      return hub
    },
    browser: () => env.browsers.get(),
    errorOutput: () => errors?.seen() ?? [],
  }

  let outcome: CaseResult
  try {
    await check.run(ctx)
    outcome = result('pass')
  } catch (error) {
    outcome =
      error instanceof SkipCase
        ? result('skip', oneLine(error.message))
        : result('fail', oneLine(error instanceof Error ? error.message : String(error)))
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup()
      } catch (error) {
        notes.push(`cleanup failed: ${(error as Error).message}`)
      }
    }
    client.close()
    errors?.stop()
  }
  return outcome
}

/** Whether `check` applies to `protocol` and what the source offers, or why not. */
export function applicability(
  check: ConformanceCase,
  protocol: Protocol,
  offers: { configurable: boolean; publish: boolean; auth: boolean },
): string | undefined {
  if (check.protocols && !check.protocols.includes(protocol)) return `not applicable over ${protocol}`
  if (check.needs.includes('h2') && protocol !== 'h2') return 'only over h2c'
  if (check.needs.includes('hub') && !offers.configurable) return 'needs a hub the suite configures (vitest)'
  if (check.needs.includes('publish') && !offers.publish) return 'needs a publish URL (--publish-url)'
  if (check.needs.includes('auth') && !offers.auth) return 'needs an auth-guarded events route'
  return undefined
}

/** Throws (via `error`) when `only` names a check that does not exist, instead of silently running fewer. */
export function checkOnly(only: readonly string[] | undefined, error: (rule: string) => Error): void {
  if (only === undefined) return
  const known = new Set(allCases.map((c) => c.id))
  const unknown = only.filter((id) => !known.has(id))
  if (unknown.length > 0) {
    throw error(`unknown check id(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`)
  }
}

/** Events in the burst check of {@link checkServer} and the CLI unless told otherwise. */
export const CLI_BURST_EVENTS = 2000

/** Options for {@link checkServer}. */
export interface CheckServerOptions extends RunningServer {
  /** Talk h2c (HTTP/2 with prior knowledge) instead of HTTP/1.1. */
  h2?: boolean
  /** Only these check ids (default: all). */
  only?: readonly string[]
  artifactsDir?: string
  /** Start of every topic name the checks make up (default `conformance-`). */
  topicPrefix?: string
  /** The server's heartbeat interval; without it the heartbeat check is skipped. */
  heartbeatMs?: number
  /** Which checks: `sse` (default), or `herald-app` (adds the sample apps' conventions). */
  profile?: Profile
  /** Reached through a reverse proxy: see `RunSettings.behindProxy`. */
  behindProxy?: boolean
  /** Events in the burst check (default 2000 here; each is one POST). */
  burstEvents?: number
  /** Called after each row, for progress output. */
  onResult?(result: CaseResult): void
}

/**
 * Runs the black-box checks against a server that is already running and follows the `/events` +
 * `/publish` convention. Checks that need to configure the hub are reported as skipped.
 */
export async function checkServer(options: CheckServerOptions): Promise<CaseResult[]> {
  checkOnly(options.only, (rule) => new RangeError(`checkServer options.only: ${rule}`))
  const profile = options.profile ?? 'sse'
  if (!PROFILES.includes(profile)) {
    throw new RangeError(
      `checkServer options.profile: must be one of ${PROFILES.join(', ')}, got ${String(profile)}`,
    )
  }
  const protocol: Protocol = options.h2 ? 'h2' : 'http1'
  const env: RunEnvironment = {
    source: runningServer(options),
    browsers: new BrowserPool(),
    artifactsDir: options.artifactsDir ?? 'test-artifacts',
    captureErrors: false,
    settings: {
      // Over HTTP every event of the burst is a POST: 2000 keep a whole run well under a minute.
      burstEvents: options.burstEvents ?? CLI_BURST_EVENTS,
      behindProxy: options.behindProxy === true,
      ...(options.topicPrefix === undefined ? {} : { topicPrefix: options.topicPrefix }),
      ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    },
  }
  const offers = {
    configurable: false,
    publish: options.publishUrl !== undefined,
    auth: options.authUrl !== undefined,
  }
  const results: CaseResult[] = []
  try {
    // `only` names checks explicitly, whatever their profile.
    for (const check of options.only ? allCases : casesOf(profile)) {
      if (options.only && !options.only.includes(check.id)) continue
      const why = applicability(check, protocol, offers)
      const result: CaseResult =
        why === undefined
          ? await runCase(check, protocol, env)
          : { id: check.id, title: check.title, protocol, status: 'skip', reason: why, notes: [], ms: 0 }
      results.push(result)
      options.onResult?.(result)
    }
  } finally {
    await env.browsers.close()
  }
  return results
}

/** Formats results as the pass/fail table the CLI prints. */
export function formatTable(results: readonly CaseResult[]): string {
  const rows = results.map((r) => [
    r.status.toUpperCase(),
    r.protocol === 'h2' ? 'h2c' : 'http/1.1',
    r.id,
    `${r.ms} ms`,
  ])
  const head = ['RESULT', 'PROTOCOL', 'CHECK', 'TIME']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  const out = [line(head), line(widths.map((w) => '-'.repeat(w)))]
  results.forEach((r, i) => {
    out.push(line(rows[i]!))
    const indent = ' '.repeat(widths[0]! + 2)
    if (r.reason) out.push(`${indent}${r.status === 'fail' ? 'reason' : 'why'}: ${r.reason}`)
    for (const note of r.notes) out.push(`${indent}note: ${note}`)
  })
  const count = (s: CaseResult['status']) => results.filter((r) => r.status === s).length
  out.push('', `${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`)
  return out.join('\n')
}

/** Collects warnings, console.error/warn, stderr writes and unhandled rejections until stopped. */
function captureErrorOutput(): { seen(): string[]; stop(): void } {
  const seen: string[] = []
  const onWarning = (warning: Error) => seen.push(`warning: ${warning.name}: ${warning.message}`)
  const onRejection = (reason: unknown) => seen.push(`unhandled rejection: ${String(reason)}`)
  const { error, warn } = console
  const write = process.stderr.write
  process.on('warning', onWarning)
  process.on('unhandledRejection', onRejection)
  console.error = (...args: unknown[]) => {
    seen.push(`console.error: ${args.map(String).join(' ').slice(0, 300)}`)
    error.apply(console, args)
  }
  console.warn = (...args: unknown[]) => {
    seen.push(`console.warn: ${args.map(String).join(' ').slice(0, 300)}`)
    warn.apply(console, args)
  }
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    seen.push(`stderr: ${String(chunk).slice(0, 300)}`)
    return (write as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest)
  }) as typeof process.stderr.write
  return {
    seen: () => [...seen],
    stop() {
      process.off('warning', onWarning)
      process.off('unhandledRejection', onRejection)
      console.error = error
      console.warn = warn
      process.stderr.write = write
    },
  }
}
