export { HeraldBrokerError } from '../errors.js'
export { frameWithId } from './frame.js'
export { createMemoryBroker, type MemoryBrokerOptions } from './memory.js'
export type {
  Broker,
  BrokerEntry,
  BrokerListener,
  BrokerPublish,
  BrokerReplay,
  BrokerResetReason,
} from './types.js'
