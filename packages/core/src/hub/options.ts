import { randomEpoch } from '../broker/ids.js'
import type { Broker } from '../broker/types.js'
import { HeraldConfigError } from '../errors.js'
import type {
  BrokerOutagePolicy,
  CloseReason,
  HistoryOptions,
  HubOptions,
  SlowConsumerPolicy,
  Subscription,
} from '../types.js'
import { MAX_TOPIC_LENGTH } from './topics.js'

/** HubOptions with every default applied and every value checked. */
export interface ResolvedHubOptions {
  budgetBytes: number
  slowConsumer: SlowConsumerPolicy
  slowConsumerEvent: boolean
  drainTimeoutMs: number
  gapEvent: string
  /** The broker given, or undefined for the default memory broker (built from `history` and `epoch`). */
  broker: Broker | undefined
  brokerOutage: BrokerOutagePolicy
  history: false | HistoryOptions | undefined
  resetEvent: string
  heartbeatMs: number
  retryMs: number | undefined
  connectedEvent: string | undefined
  maxSubscribers: number
  maxSubscribersPerClient: number
  maxTopicsPerStream: number
  maxTopicLength: number
  topicPattern: RegExp | undefined
  maxEventBytes: number
  epoch: string | undefined
  onSubscribe: ((subscription: Subscription) => void) | undefined
  onUnsubscribe: ((subscription: Subscription, reason: CloseReason) => void) | undefined
  onError: ((error: unknown) => void) | undefined
}

const KNOWN = new Set<string>([
  'budgetBytes',
  'slowConsumer',
  'slowConsumerEvent',
  'drainTimeoutMs',
  'gapEvent',
  'history',
  'broker',
  'brokerOutage',
  'resetEvent',
  'heartbeatMs',
  'retryMs',
  'connectedEvent',
  'maxSubscribers',
  'maxSubscribersPerClient',
  'maxTopicsPerStream',
  'maxTopicLength',
  'topicPattern',
  'maxEventBytes',
  'epoch',
  'onSubscribe',
  'onUnsubscribe',
  'onError',
])
const POLICIES: readonly SlowConsumerPolicy[] = ['disconnect', 'drop-oldest', 'latest']
const LINE_BREAK_OR_NUL = /[\r\n\0]/

function integer(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new HeraldConfigError(name, `must be an integer >= ${min}, got ${String(value)}`)
  }
  return value
}

function limit(name: string, value: unknown, fallback = Number.POSITIVE_INFINITY): number {
  if (value === undefined) return fallback
  if (value === Number.POSITIVE_INFINITY) return value
  return integer(name, value, 0, 1)
}

function eventName(name: string, value: unknown, fallback: string): string
function eventName(name: string, value: unknown, fallback: undefined): string | undefined
function eventName(name: string, value: unknown, fallback: string | undefined): string | undefined {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value === '' || LINE_BREAK_OR_NUL.test(value)) {
    throw new HeraldConfigError(name, 'must be a non-empty string without CR, LF or NUL')
  }
  return value
}

function hook<F>(name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw new HeraldConfigError(name, 'must be a function')
  return value as F
}

/** Checks `options` and fills in defaults. Throws `HeraldConfigError` naming the first bad option. */
export function resolveHubOptions(options: HubOptions = {}): ResolvedHubOptions {
  if (options === null || typeof options !== 'object') {
    throw new HeraldConfigError('options', 'must be an object')
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new HeraldConfigError(key, 'is not a hub option')
  }
  const o = options as Record<keyof HubOptions, unknown>
  if (o.slowConsumer !== undefined && !POLICIES.includes(o.slowConsumer as SlowConsumerPolicy)) {
    throw new HeraldConfigError('slowConsumer', `must be one of ${POLICIES.join(', ')}`)
  }
  if (o.slowConsumerEvent !== undefined && typeof o.slowConsumerEvent !== 'boolean') {
    throw new HeraldConfigError('slowConsumerEvent', 'must be a boolean')
  }
  let broker: Broker | undefined
  if (o.broker !== undefined) {
    const b = o.broker as Partial<Broker> | null
    const missing =
      b === null || typeof b !== 'object' ? 'attach' : BROKER_METHODS.find((m) => typeof b[m] !== 'function')
    if (missing !== undefined) {
      throw new HeraldConfigError(
        'broker',
        `must be a Broker (${BROKER_METHODS.join(', ')}); ${missing}() is missing`,
      )
    }
    // The history and the id space belong to the broker: silently ignoring these would surprise.
    for (const name of ['history', 'epoch'] as const) {
      if (o[name] !== undefined) {
        throw new HeraldConfigError(
          name,
          'configures the default memory broker; with `broker`, set it on the broker',
        )
      }
    }
    broker = b as Broker
  }
  if (o.brokerOutage !== undefined && o.brokerOutage !== 'reject' && o.brokerOutage !== 'local') {
    throw new HeraldConfigError('brokerOutage', "must be 'reject' or 'local'")
  }
  // Checked here so a bad value names the hub option, even though the memory broker reads them.
  const history =
    o.history === false || o.history === undefined ? o.history : resolveHistoryOptions(o.history, 'history.')
  const epoch = o.epoch === undefined ? undefined : resolveEpoch(o.epoch)
  let topicPattern: RegExp | undefined
  if (o.topicPattern !== undefined) {
    if (!(o.topicPattern instanceof RegExp)) throw new HeraldConfigError('topicPattern', 'must be a RegExp')
    if (o.topicPattern.global || o.topicPattern.sticky) {
      // `test` on a global or sticky RegExp remembers where it stopped: the same name would pass, then fail.
      throw new HeraldConfigError('topicPattern', 'must not have the g or y flag')
    }
    topicPattern = o.topicPattern
  }
  return {
    budgetBytes: integer('budgetBytes', o.budgetBytes, 1024 * 1024, 1),
    slowConsumer: (o.slowConsumer as SlowConsumerPolicy | undefined) ?? 'disconnect',
    slowConsumerEvent: (o.slowConsumerEvent as boolean | undefined) ?? true,
    drainTimeoutMs: integer('drainTimeoutMs', o.drainTimeoutMs, 10_000, 0),
    gapEvent: eventName('gapEvent', o.gapEvent, 'gap'),
    broker,
    brokerOutage: (o.brokerOutage as BrokerOutagePolicy | undefined) ?? 'reject',
    history: history as ResolvedHubOptions['history'],
    resetEvent: eventName('resetEvent', o.resetEvent, 'reset'),
    heartbeatMs: integer('heartbeatMs', o.heartbeatMs, 15_000, 0),
    retryMs: o.retryMs === undefined ? undefined : integer('retryMs', o.retryMs, 0, 0),
    connectedEvent: eventName('connectedEvent', o.connectedEvent, undefined),
    maxSubscribers: limit('maxSubscribers', o.maxSubscribers),
    maxSubscribersPerClient: limit('maxSubscribersPerClient', o.maxSubscribersPerClient, 256),
    maxTopicsPerStream: limit('maxTopicsPerStream', o.maxTopicsPerStream, 64),
    maxTopicLength: limit('maxTopicLength', o.maxTopicLength, MAX_TOPIC_LENGTH),
    topicPattern,
    maxEventBytes: limit('maxEventBytes', o.maxEventBytes, 1024 * 1024),
    epoch,
    onSubscribe: hook('onSubscribe', o.onSubscribe),
    onUnsubscribe: hook('onUnsubscribe', o.onUnsubscribe),
    onError: hook('onError', o.onError),
  }
}

const BROKER_METHODS = ['attach', 'publish', 'watch', 'unwatch', 'replay', 'close'] as const

/** Checks an epoch (the id space of the memory broker); undefined gives a random one. */
export function resolveEpoch(value: unknown): string {
  if (value === undefined) return randomEpoch()
  if (typeof value !== 'string' || value === '' || value.length > 128 || /[\s\0]/.test(value)) {
    throw new HeraldConfigError(
      'epoch',
      'must be a non-empty string of at most 128 characters without spaces',
    )
  }
  return value
}

const HISTORY_KEYS = new Set(['maxEvents', 'maxAgeMs', 'maxBytes'])

/**
 * Checks the bounds of the in-memory history and fills in defaults (1000 events per topic, 5 minutes,
 * 64 MiB). `prefix` starts the option names in errors (`history.` for hub options).
 */
export function resolveHistoryOptions(
  value: unknown,
  prefix = '',
): { maxEvents: number; maxAgeMs: number; maxBytes: number } {
  if (value === undefined) value = {}
  if (value === null || typeof value !== 'object') {
    throw new HeraldConfigError(
      prefix ? prefix.slice(0, -1) : 'options',
      'must be false or { maxEvents?, maxAgeMs?, maxBytes? }',
    )
  }
  const h = value as Record<string, unknown>
  for (const key of Object.keys(h)) {
    if (!HISTORY_KEYS.has(key)) throw new HeraldConfigError(`${prefix}${key}`, 'is not a history option')
  }
  return {
    maxEvents: integer(`${prefix}maxEvents`, h.maxEvents, 1000, 1),
    maxAgeMs: limit(`${prefix}maxAgeMs`, h.maxAgeMs, 5 * 60_000),
    maxBytes: limit(`${prefix}maxBytes`, h.maxBytes, 64 * 1024 * 1024),
  }
}
