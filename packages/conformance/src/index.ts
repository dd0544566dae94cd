/**
 * @herald/sse-conformance: one suite every Server-Sent Events server should pass. Under vitest,
 * `runConformance(target)`; against a running server, `checkServer(urls)` or the `herald-conformance` CLI.
 */
export * from './cases/index.js'
export { type ChromiumLike, describeSampleAppSecurity, type SampleAppStart } from './herald-app/security.js'
export { decodeBody, HttpClient, type Protocol, type RawResponse, type ResponseHead } from './http.js'
export {
  applicability,
  BrowserPool,
  type CheckServerOptions,
  CLI_BURST_EVENTS,
  checkOnly,
  checkServer,
  formatTable,
  type RunEnvironment,
  type RunningServer,
  runCase,
  runningServer,
  type ServerSource,
  targetServer,
} from './runner.js'
export { type SpecEvent, SpecParser } from './spec-parser.js'
export { type OpenOptions, openStream, type ReceivedEvent, SseStream, waitUntil } from './sse.js'
export type {
  CaseContext,
  CaseResult,
  ConformanceCase,
  ConformanceTarget,
  Need,
  Profile,
  PublishInput,
  RunSettings,
  ServerUnderTest,
  StartedServer,
  StartOptions,
} from './target.js'
export { PROFILES, SkipCase } from './target.js'
export { type RunConformanceOptions, runConformance } from './vitest.js'
