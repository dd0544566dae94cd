import type { Hub, HubOptions } from '@herald/sse-core'
import type { Protocol } from './http.js'
import type { OpenOptions, SseStream } from './sse.js'

/** What the suite passes to a target's `start`. */
export interface StartOptions {
  /** The hub to serve. The suite creates one per check, configured for that check. */
  hub?: Hub
  /** Port to listen on; 0 (the default) picks a free one. The browser check restarts on the same port. */
  port?: number
  /** Serve HTTP/2 over cleartext (h2c, prior knowledge) instead of HTTP/1.1. Only asked when `target.h2`. */
  http2?: boolean
}

/** A running server, as `start` returns it. */
export interface StartedServer {
  /** The base URL, e.g. `http://127.0.0.1:49152`. */
  url: string
  hub?: Hub
  /** Stops listening and ends open connections. */
  close(): Promise<void>
}

/**
 * A server to check under vitest: the `start` every sample app exports, plus what it supports.
 *
 * @example
 * runConformance({ name: 'express-app', start })
 */
export interface ConformanceTarget {
  /** The `describe` name. */
  name: string
  /** Starts the server on `options.port` serving `options.hub`. */
  start(options: StartOptions): Promise<StartedServer>
  /** Also run every check over h2c (`start` gets `{ http2: true }`). */
  h2?: boolean
  /**
   * An events route guarded by `authorize`, for the 401/403 check: it must answer 401 to a request
   * without an `Authorization` header and 403 to `Authorization: Bearer invalid`. Default: not checked.
   */
  auth?: { path: string }
  /** Paths of the sample-app convention. Defaults: `/events`, `/publish`, `/`. */
  paths?: { events?: string; publish?: string; page?: string }
  /** Headers sent with every publish request the suite makes (a token: `{ authorization: 'Bearer …' }`). */
  publishHeaders?: Record<string, string>
  /** Options merged into every hub the suite creates (the suite's per-check options win). */
  hubOptions?: HubOptions
  /**
   * Compression middleware sits in front of every route, as in the sample apps. `page.html` then also
   * checks that the page comes back compressed, which shows the streaming checks ran through a compressor.
   */
  compression?: boolean
}

/**
 * Which checks run. `sse`: what every Server-Sent Events server must do (headers, immediacy, compression,
 * encoding, replay, heartbeat, disconnect, burst, HTTP/2, a browser's EventSource). `herald-app`: all of
 * `sse` plus the sample apps' own conventions (the `/publish` refusals, the page, the `reset` event,
 * capacity limits, `close()`). The CLI defaults to `sse`, `runConformance` to `herald-app`.
 */
export type Profile = 'sse' | 'herald-app'

/** The profiles, smallest first: each includes the checks of the ones before it. */
export const PROFILES: readonly Profile[] = ['sse', 'herald-app']

/** What a check needs beyond a server that streams events. */
export type Need = 'hub' | 'h2' | 'browser' | 'publish' | 'auth'

/** One conformance check: a plain async function that throws an Error with a readable reason. */
export interface ConformanceCase {
  /** Stable identifier, `<file>.<check>` (e.g. `headers.immediate`). */
  id: string
  title: string
  /**
   * `hub`: the suite must start the server with a hub it configures (vitest only, not the CLI).
   * `publish`: a `/publish` endpoint. `h2`: runs only over h2c. `browser`: Chromium. `auth`: `target.auth`.
   */
  needs: readonly Need[]
  /** Protocols it applies to. Default: both. */
  protocols?: readonly Protocol[]
  /** The smallest profile the check belongs to (`herald-app` checks a sample-app convention). */
  profile: Profile
  run(ctx: CaseContext): Promise<void>
}

/** A server the checks talk to. */
export interface ServerUnderTest {
  eventsUrl: URL
  publishUrl: URL | undefined
  /** Sent with every publish request (see `ConformanceTarget.publishHeaders`). */
  publishHeaders: Record<string, string>
  /** Sent with every events request the checks open (the CLI's `--header`), e.g. credentials. */
  eventsHeaders: Record<string, string>
  pageUrl: URL
  authUrl: URL | undefined
  /** Present when the suite started the server itself. */
  hub: Hub | undefined
  /** The port it listens on. */
  port: number
  /** True when compression middleware is said to be in front of every route (see `ConformanceTarget`). */
  compression: boolean
  /** Stops it (vitest mode; a no-op for a server the CLI points at). */
  close(): Promise<void>
}

/** What a check can publish through `/publish`. */
export interface PublishInput {
  event?: string
  data: string
}

/** Everything a check gets. */
export interface CaseContext {
  readonly protocol: Protocol
  /** True when `server(options)` can configure the hub (vitest mode). */
  readonly configurable: boolean
  /** A topic name that no other check uses. */
  topic(label?: string): string
  /**
   * The server to check. In vitest mode a fresh one on a hub with `options` (closed after the check);
   * for the CLI, the running server (and a check that passes hub options is skipped).
   */
  server(options?: HubOptions, listen?: { port?: number; hub?: Hub }): Promise<ServerUnderTest>
  /** A hub with `options` (plus `target.hubOptions`), closed after the check; a skip for the CLI. */
  createHub(options?: HubOptions): Hub
  /** Opens `GET events?topic=...` (plus `query`) as an event stream. Closed after the check. */
  connect(
    server: ServerUnderTest,
    topics: string | readonly string[],
    options?: OpenOptions & { query?: Record<string, string> },
  ): Promise<SseStream>
  /**
   * `POST /publish` (the publish contract); fails the check unless the answer is 2xx. Returns the `id`
   * the answer carried, or undefined when it carried none (the contract makes it optional).
   */
  publish(server: ServerUnderTest, topic: string, input: PublishInput): Promise<string | undefined>
  /** `id`, or a skip saying that `what` needs the ids `/publish` answers with (and this server gives none). */
  requireId(id: string | undefined, what: string): string
  /** Sends a raw `POST /publish` body and returns status and body. */
  publishRaw(server: ServerUnderTest, body: string): Promise<{ status: number; body: string }>
  /** The HTTP client of this run (streams and requests over `protocol`). */
  readonly client: import('./http.js').HttpClient
  /** Adds a line to the result's notes (shown by the CLI and in test output). */
  note(text: string): void
  /** Ends the check as skipped. */
  skip(reason: string): never
  /** Runs `fn` when the check ends, pass or fail. */
  defer(fn: () => unknown): void
  /** The Chromium browser shared by the run (launched on first use), or a skip. */
  browser(): Promise<import('playwright-core').Browser>
  /** Where screenshots go. */
  readonly artifactsDir: string
  /** Tunables of this run. */
  readonly settings: RunSettings
  /** Names of error output (warnings, console.error, stderr, unhandled rejections) seen since the check began. */
  errorOutput(): string[]
}

/** Tunables a run may change. */
export interface RunSettings {
  /** Events in the burst check. Default 10 000. */
  burstEvents: number
  /** Start of every topic name a check makes up. Default `conformance-`. */
  topicPrefix: string
  /** The heartbeat interval of a running server (the CLI's `--heartbeat-ms`); vitest sets its own. */
  heartbeatMs?: number
  /**
   * The server is reached through a reverse proxy (nginx honours and strips `X-Accel-Buffering`): a
   * missing `X-Accel-Buffering: no` becomes a note, and immediacy is judged by timing alone.
   */
  behindProxy: boolean
}

/** Thrown by `ctx.skip`. */
export class SkipCase extends Error {
  override readonly name = 'SkipCase'
}

/** One row of the result table. */
export interface CaseResult {
  id: string
  title: string
  protocol: Protocol
  status: 'pass' | 'fail' | 'skip'
  /** Why it failed or was skipped. */
  reason?: string
  notes: string[]
  ms: number
}
