export {
  HeraldClosedError,
  HeraldConfigError,
  HeraldEncodingError,
  HeraldError,
  HeraldLimitError,
  HeraldTopicError,
} from './errors.js'
export { admitStream } from './http/admit.js'
export { SSE_HEADERS } from './http/headers.js'
export { readLastEventId } from './http/last-event-id.js'
export { type PublishOutcome, publishFromBody } from './http/publish-body.js'
export { serveWeb } from './http/serve-web.js'
export { createMemoryStore, type MemoryStore, type MemoryStoreOptions } from './hub/history.js'
export { createHub } from './hub/hub.js'
export { formatId, parseSeq } from './hub/ids.js'
export { MAX_TOPIC_LENGTH } from './hub/topics.js'
export { encodeComment, encodeEvent, encodeEventText, type SseMessage } from './protocol/index.js'
export { createWebSink, type WebSink, type WebSinkOptions } from './sink/web.js'
export type {
  Admission,
  AdmissionRefusal,
  AuthorizeRefusal,
  CloseOptions,
  CloseReason,
  HistoryStore,
  Hub,
  HubMetrics,
  HubOptions,
  PublishMessage,
  ReplayResult,
  RequestInfo,
  Sink,
  SlowConsumerPolicy,
  StoredEvent,
  StreamOptions,
  SubscribeOptions,
  Subscription,
} from './types.js'
