import type { ConformanceCase, Profile } from '../target.js'
import { backpressureBurst, backpressureSlowConsumer } from './backpressure.js'
import { browserEventSource, browserReceive, browserResume } from './browser.js'
import { compressionPerEvent } from './compression.js'
import { disconnectRelease } from './disconnect.js'
import { encodingBadPublish, encodingRoundTrip } from './encoding.js'
import { headersCompressed, headersImmediate } from './headers.js'
import { heartbeatIdle } from './heartbeat.js'
import { http2Multiplex } from './http2.js'
import { lifecycleClose } from './lifecycle.js'
import { limitsAuthorize, limitsCapacity } from './limits.js'
import { pageHtml } from './page.js'
import { publishBodyLimit, publishContentType, publishFields } from './publish.js'
import { replayHeader, replayQuery, replayReset } from './replay.js'

/** Every check, in the order the issue lists them; the sample-app convention checks after their kin. */
export const allCases = [
  headersImmediate,
  headersCompressed,
  compressionPerEvent,
  encodingRoundTrip,
  encodingBadPublish,
  publishFields,
  publishContentType,
  publishBodyLimit,
  backpressureBurst,
  replayHeader,
  replayQuery,
  replayReset,
  heartbeatIdle,
  disconnectRelease,
  backpressureSlowConsumer,
  limitsCapacity,
  limitsAuthorize,
  http2Multiplex,
  pageHtml,
  browserEventSource,
  browserReceive,
  browserResume,
  lifecycleClose,
] as const

/** The checks of `profile`: `sse` ones only, or (for `herald-app`) every check. */
export function casesOf(profile: Profile): readonly ConformanceCase[] {
  return profile === 'sse' ? allCases.filter((c) => c.profile === 'sse') : allCases
}

export {
  backpressureBurst,
  backpressureSlowConsumer,
  browserEventSource,
  browserReceive,
  browserResume,
  compressionPerEvent,
  disconnectRelease,
  encodingBadPublish,
  encodingRoundTrip,
  headersCompressed,
  headersImmediate,
  heartbeatIdle,
  http2Multiplex,
  lifecycleClose,
  limitsAuthorize,
  limitsCapacity,
  pageHtml,
  publishBodyLimit,
  publishContentType,
  publishFields,
  replayHeader,
  replayQuery,
  replayReset,
}
