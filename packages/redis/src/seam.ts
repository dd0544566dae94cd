// The broker seam lives in core; the package imports it from one place.
export {
  type Broker,
  type BrokerEntry,
  type BrokerListener,
  type BrokerPublish,
  type BrokerReplay,
  type BrokerResetReason,
  frameWithId,
  HeraldBrokerError,
} from '@herald/sse-core'
