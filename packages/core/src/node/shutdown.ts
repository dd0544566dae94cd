import type { Server } from 'node:http'
import type { Http2SecureServer, Http2Server, Http2Session } from 'node:http2'
import { HeraldConfigError } from '../errors.js'
import type { CloseOptions, Hub } from '../types.js'

/** Options of `shutdown`: the hub's closing frames, and how long the server keeps answering. */
export interface ShutdownOptions extends CloseOptions {
  /**
   * After the streams have ended, the server keeps listening (the hub answers new streams with 503 and
   * `Retry-After`) until no connection arrived for this long, so requests already on their way are answered
   * rather than reset. Default 100 ms.
   */
  quietMs?: number
  /** The longest wait for that quiet moment and then for requests in progress; then connections are cut. Default 2000 ms. */
  graceMs?: number
  /**
   * HTTP/2 sessions the server had before the call (tracked from its `'session'` event): asked to finish
   * (GOAWAY) when the server stops listening, destroyed after `graceMs`. Later ones are tracked here.
   */
  sessions?: Iterable<Http2Session>
}

type AnyServer = Server | Http2Server | Http2SecureServer

function duration(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new HeraldConfigError(name, `must be an integer >= 0, got ${String(value)}`)
  }
  return value
}

/**
 * Shuts a Node server and its hub down without resetting anyone: every stream ends with `options.event`
 * and the `retryMs` hint (the hub waits, up to its drain deadline, for them to be sent), requests that
 * arrive meanwhile get 503 with `Retry-After`, then the server stops listening once no new connection
 * came for `quietMs`, requests in progress finish, and whatever is left after `graceMs` is cut.
 * Resolves when the server is closed. Call it from a SIGTERM handler, then exit.
 *
 * @example
 * process.once('SIGTERM', () =>
 *   shutdown(server, hub, { event: { event: 'shutdown', data: '' }, retryMs: 1000 }).then(() => process.exit(0)),
 * )
 */
export async function shutdown(server: AnyServer, hub: Hub, options: ShutdownOptions = {}): Promise<void> {
  const { quietMs: quiet, graceMs: grace, sessions: known, ...closeOptions } = options
  const quietMs = duration('quietMs', quiet, 100)
  const graceMs = duration('graceMs', grace, 2000)
  let lastConnection = performance.now()
  const onConnection = () => {
    lastConnection = performance.now()
  }
  const sessions = new Set<Http2Session>(known)
  const onSession = (session: Http2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  }
  server.on('connection', onConnection)
  server.on('session', onSession)
  try {
    if (!hub.closed) await hub.close(closeOptions)
    const until = performance.now() + graceMs
    // Ending many streams keeps the loop busy; connections that queued meanwhile are accepted only once
    // it turns again, so the quiet period starts now, not at the last connection seen.
    lastConnection = performance.now()
    // Connections the kernel accepted but the server has not yet read are reset when it stops listening:
    // wait until none has arrived for a moment.
    for (;;) {
      const left = quietMs - (performance.now() - lastConnection)
      if (left <= 0) {
        // The timer may fire after a busy stretch of the loop and before the connections that queued
        // during it are accepted: give the loop one turn through its poll phase, then look again.
        await new Promise((r) => setImmediate(r))
        if (performance.now() - lastConnection >= quietMs || performance.now() >= until) break
      } else if (performance.now() >= until) {
        break
      } else {
        await new Promise((r) => setTimeout(r, Math.max(1, left)))
      }
    }
    if (!server.listening) return
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    // HTTP/2 sessions outlive their streams; ask them to finish (GOAWAY) like idle HTTP/1.1 connections.
    for (const session of sessions) session.close()
    let timer: ReturnType<typeof setTimeout> | undefined
    const cut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, until - performance.now()))
    })
    const done = await Promise.race([closed.then(() => true), cut.then(() => false)])
    clearTimeout(timer)
    if (done) return
    if ('closeAllConnections' in server) server.closeAllConnections()
    for (const session of sessions) session.destroy()
    await closed
  } finally {
    server.off('connection', onConnection)
    server.off('session', onSession)
  }
}
