export {
  createRedisBroker,
  type RedisBroker,
  type RedisBrokerLogger,
  type RedisBrokerOptions,
  type RedisClient,
} from './broker.js'
export { HeraldBrokerError } from './seam.js'
