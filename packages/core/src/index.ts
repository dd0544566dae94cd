export { formatId, parseSeq } from './broker/ids.js'
export {
  type Broker,
  type BrokerEntry,
  type BrokerListener,
  type BrokerPublish,
  type BrokerReplay,
  type BrokerResetReason,
  createMemoryBroker,
  frameWithId,
  type MemoryBrokerOptions,
} from './broker/index.js'
export {
  HeraldBrokerError,
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
export { type PublishOutcome, type PublishStatus, publishFromBody } from './http/publish-body.js'
export {
  checkBearer,
  createPublishGuard,
  type PublishPolicy,
  type PublishRequest,
} from './http/publish-guard.js'
export { parseRequestUrl } from './http/request-url.js'
export { serveWeb } from './http/serve-web.js'
export { createHub } from './hub/hub.js'
export { MAX_TOPIC_LENGTH } from './hub/topics.js'
export { encodeComment, encodeEvent, encodeEventText, type SseMessage } from './protocol/index.js'
export { createWebSink, type WebSink, type WebSinkOptions } from './sink/web.js'
export type {
  Admission,
  AdmissionRefusal,
  AuthorizeRefusal,
  AuthorizeRequest,
  AuthorizeVerdict,
  BrokerOutagePolicy,
  CloseOptions,
  CloseReason,
  HistoryOptions,
  Hub,
  HubMetrics,
  HubOptions,
  HubRules,
  PublishMessage,
  RequestInfo,
  Sink,
  SlowConsumerPolicy,
  StreamOptions,
  SubscribeOptions,
  Subscription,
} from './types.js'
