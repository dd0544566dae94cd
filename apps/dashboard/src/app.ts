import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import type { Hub } from '@herald/sse-core'
import { sse } from '@herald/sse-hono'
import { registerHeraldMetrics } from '@herald/sse-prometheus'
import { createAdaptorServer, type Http2Bindings, type HttpBindings } from '@hono/node-server'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { Registry } from 'prom-client'
import { BuildRunner, type BuildRunnerOptions, parseBuildRequest } from './builds.js'
import { clientScript } from './client-script.js'
import { BuildLimitError, BuildRequestError, BuildRunnerStoppedError } from './errors.js'
import { createDashboardHub, RETRY_MS, TOPIC_BUILDS, TOPIC_METRICS } from './hub.js'
import { publishMetrics } from './metrics.js'

const PUBLIC_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
}
// Nothing on the page comes from elsewhere; the policy makes that a promise rather than a habit.
const PAGE_HEADERS = {
  'Cache-Control': 'no-cache',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'",
}

export interface AppOptions {
  /** Runs the builds whose events the hub carries. */
  runner: BuildRunner
  /** `@herald/sse-client` as one ES module, served as `/sse-client.js` (see `clientScript()`). */
  clientScript: string
}

type Env = { Bindings: Partial<HttpBindings | Http2Bindings> }

/**
 * The dashboard as a Hono app: the page (`GET /`, `/app.js`, `/style.css`, `/sse-client.js`), two streams
 * (`GET /events`: topic `builds`, read by the page's EventSource; `GET /events/metrics`: topic `metrics`,
 * read by `@herald/sse-client`), `POST /builds`, `GET /api/builds` (a snapshot for a fresh page) and
 * `GET /api/info` (which adapter and transport serve this page).
 */
export function buildApp(hub: Hub, { runner, clientScript }: AppOptions): Hono<Env> {
  const app = new Hono<Env>()
  const files = Object.entries(PUBLIC_FILES).map(([path, { file, type }]) => ({
    path,
    type,
    body: readFileSync(new URL(`../public/${file}`, import.meta.url)),
  }))
  files.push({ path: '/sse-client.js', type: PUBLIC_FILES['/app.js']!.type, body: Buffer.from(clientScript) })
  for (const { path, type, body } of files) {
    app.get(path, (c) => c.body(new Uint8Array(body), 200, { ...PAGE_HEADERS, 'Content-Type': type }))
  }

  app.get('/events', sse(hub, { topics: () => [TOPIC_BUILDS] }))
  app.get('/events/metrics', sse(hub, { topics: () => [TOPIC_METRICS] }))

  app.post(
    '/builds',
    bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.json({ error: 'body is larger than 16 KiB' }, 413) }),
    async (c) => {
      const text = await c.req.text()
      let body: unknown = {}
      if (text.trim() !== '') {
        // Only JSON: a plain cross-site form or beacon cannot start builds.
        const type = c.req.header('content-type') ?? '(none)'
        if (!/^application\/json\b/i.test(type)) {
          return c.json({ error: `Content-Type must be application/json, got ${type}` }, 415)
        }
        try {
          body = JSON.parse(text)
        } catch (err) {
          return c.json({ error: `body is not valid JSON: ${(err as Error).message}` }, 400)
        }
      }
      try {
        const build = runner.start(parseBuildRequest(body))
        return c.json({ id: build.id }, 201)
      } catch (err) {
        if (err instanceof BuildRequestError)
          return c.json({ error: err.message, code: err.code, field: err.field }, 400)
        if (err instanceof BuildLimitError) {
          return c.json({ error: err.message, code: err.code }, 429, { 'Retry-After': '5' })
        }
        if (err instanceof BuildRunnerStoppedError) return c.json({ error: err.message, code: err.code }, 503)
        throw err
      }
    },
  )

  app.get('/api/builds', (c) => c.json(runner.snapshot(), 200, { 'Cache-Control': 'no-store' }))

  // Prometheus scrapes the hub's counters here, with subscribers per topic for the dashboard's two topics.
  const metrics = new Registry()
  registerHeraldMetrics(hub, { registry: metrics, topics: [TOPIC_BUILDS, TOPIC_METRICS] })
  app.get('/metrics', async (c) =>
    c.body(await metrics.metrics(), 200, { 'Content-Type': metrics.contentType }),
  )

  app.get('/api/info', (c) => {
    const version = c.env?.incoming?.httpVersion
    const transport =
      version === undefined ? 'unknown transport' : `HTTP/${version === '2.0' ? '2' : version}`
    // @herald/sse-hono writes straight to the Node response when @hono/node-server hands it over.
    const sink = c.env?.outgoing ? 'Node sink (fast path)' : 'Web sink (ReadableStream)'
    const server = c.env?.incoming ? '@hono/node-server' : 'a Web-standard runtime'
    return c.json({
      adapter: '@herald/sse-hono',
      framework: 'Hono 4',
      server,
      sink,
      transport,
      summary: `Hono 4 on ${server}, ${sink}, ${transport}`,
      buildSpeed: runner.speed,
      maxConcurrentBuilds: runner.maxConcurrent,
    })
  })

  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` }, 404))
  app.onError((err, c) => {
    console.error(err)
    return c.json({ error: 'internal error' }, 500)
  })
  return app
}

export interface StartOptions {
  /** Default 0: any free port. */
  port?: number
  /** Default `localhost`. */
  hostname?: string
  /** Default: `createDashboardHub()`, owned (closed by `close()`). Pass one to keep it across restarts. */
  hub?: Hub
  /** Default: a new runner on `hub`, owned (stopped by `close()`). Pass one to keep builds running. */
  runner?: BuildRunner
  /** For the runner this function creates (ignored with `runner`). */
  builds?: BuildRunnerOptions
  /** Interval of the `metrics` event. Default 1000 ms. */
  metricsIntervalMs?: number
  /** Serve HTTP/2 over cleartext (h2c) instead of HTTP/1.1: for HTTP/2 clients and proxies, not browsers. */
  http2?: boolean
}

export interface Dashboard {
  /** `http://<hostname>:<port>` (`localhost` when listening on every interface). */
  url: string
  port: number
  hub: Hub
  runner: BuildRunner
  /**
   * Stops the HTTP server. What this `start` created is shut down gracefully: builds are cancelled and
   * every stream gets a `shutdown` event and a `retry:` hint before it ends. A hub passed in stays open
   * (its streams are cut, as in a crash), so a new server on the same hub can replay what clients missed.
   */
  close(): Promise<void>
}

/** Starts the dashboard on `@hono/node-server`. */
export async function start(options: StartOptions = {}): Promise<Dashboard> {
  const { port = 0, hostname = 'localhost', metricsIntervalMs = 1000 } = options
  const script = await clientScript()
  const ownsHub = options.hub === undefined
  const hub = options.hub ?? createDashboardHub()
  const ownsRunner = options.runner === undefined
  const runner = options.runner ?? new BuildRunner(hub, options.builds)
  const app = buildApp(hub, { runner, clientScript: script })

  const server = createAdaptorServer({
    fetch: app.fetch,
    hostname,
    ...(options.http2 && { createServer: http2.createServer }),
  }) as Server | http2.Http2Server
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, hostname, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const sessions = new Set<http2.ServerHttp2Session>()
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  const metrics = publishMetrics(hub, { intervalMs: metricsIntervalMs, runningBuilds: () => runner.running })
  const actualPort = (server.address() as AddressInfo).port

  /** Ends connections: `graceful` lets what was written go out first (idle ones close at once). */
  const dropConnections = (graceful: boolean) => {
    if ('closeAllConnections' in server) {
      if (graceful) server.closeIdleConnections()
      else server.closeAllConnections()
    }
    for (const session of sessions) {
      if (graceful) session.close()
      else session.destroy()
    }
  }

  let closing: Promise<void> | undefined
  const close = async () => {
    metrics.stop()
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
    if (ownsRunner) runner.stop()
    if (ownsHub) {
      await hub.close({
        event: { event: 'shutdown', data: JSON.stringify({ retryMs: RETRY_MS }) },
        retryMs: RETRY_MS,
      })
      dropConnections(true)
      // A stream's last bytes are on their way; give them a moment before cutting what is left.
      const force = setTimeout(() => dropConnections(false), 1000)
      await stopped
      clearTimeout(force)
    } else {
      dropConnections(false)
      await stopped
    }
  }

  const host = hostname === '0.0.0.0' || hostname === '::' ? 'localhost' : hostname
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    port: actualPort,
    hub,
    runner,
    close: () => {
      closing ??= close()
      return closing
    },
  }
}
