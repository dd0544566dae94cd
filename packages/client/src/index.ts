export { type BackoffOptions, parseRetryAfter, reconnectDelay } from './backoff.js'
export { connect } from './client.js'
export {
  HeraldClientConfigError,
  HeraldClientError,
  type HeraldClientErrorCode,
  HeraldHttpError,
} from './errors.js'
export type {
  ClientEvent,
  ConnectionState,
  ConnectOptions,
  DataParser,
  EventMap,
  HeraldControlEvents,
  ReconnectInfo,
  SseClient,
  SseEvent,
  WithControlEvents,
} from './types.js'
