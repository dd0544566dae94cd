import { backpressureBurst, backpressureSlowConsumer } from './backpressure.js'
import { browserReceive, browserResume } from './browser.js'
import { compressionPerEvent } from './compression.js'
import { disconnectRelease } from './disconnect.js'
import { encodingBadPublish, encodingRoundTrip } from './encoding.js'
import { headersCompressed, headersImmediate } from './headers.js'
import { heartbeatIdle } from './heartbeat.js'
import { http2Multiplex } from './http2.js'
import { limitsAuthorize, limitsCapacity } from './limits.js'
import { replayHeader, replayQuery, replayReset } from './replay.js'

/** Every check, in the order the issue lists them. */
export const allCases = [
  headersImmediate,
  headersCompressed,
  compressionPerEvent,
  encodingRoundTrip,
  encodingBadPublish,
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
  browserReceive,
  browserResume,
] as const

export {
  backpressureBurst,
  backpressureSlowConsumer,
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
  limitsAuthorize,
  limitsCapacity,
  replayHeader,
  replayQuery,
  replayReset,
}
