// The public API of @herald/sse-core. Each export is listed, with why it is public, in the README
// ("Exports"); what is not here is internal and may change.
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
export { type PublishOutcome, publishFromBody } from './http/publish-body.js'
export {
  checkBearer,
  createPublishGuard,
  type PublishPolicy,
  type PublishRequest,
} from './http/publish-guard.js'
export { serveWeb } from './http/serve-web.js'
export { createHub } from './hub/hub.js'
export { encodeComment, encodeEvent, encodeEventText, type SseMessage } from './protocol/index.js'
export { createWebSink, type WebSink, type WebSinkOptions } from './sink/web.js'
export type {
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
