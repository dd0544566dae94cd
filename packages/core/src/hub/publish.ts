import { PUBLISH_NOW } from '../broker/memory.js'
import type { Broker, BrokerEntry, BrokerPublish } from '../broker/types.js'
import { HeraldBrokerError, HeraldClosedError, HeraldEncodingError } from '../errors.js'
import { encodeEvent } from '../protocol/encode.js'
import type { HubMetrics, HubRules, PublishMessage } from '../types.js'
import type { AdmissionControl } from './admission.js'
import type { Delivery } from './delivery.js'
import type { ResolvedHubOptions } from './options.js'
import { checkTopics } from './topics.js'

/** The field that makes most of an oversized event, for the error. */
function largestField(message: PublishMessage): string {
  let field = 'data'
  let size = message.data?.length ?? 0
  for (const name of ['event', 'comment'] as const) {
    const length = message[name]?.length ?? 0
    if (length > size) {
      field = name
      size = length
    }
  }
  return field
}

/**
 * The producer's side of the hub: checks an event, encodes it once without its id, and has the broker
 * assign the id, append it to history and fan it out (back to this process through `Delivery`).
 * Bad input throws before any promise exists, so it fails at the call site.
 */
export class Publisher {
  /** The broker's outage, while it lasts (set through the broker's listener). */
  outage: Error | null = null
  /** The memory broker answers at once: publishing through it needs no promise per event. */
  private readonly publishNow: ((event: BrokerPublish) => BrokerEntry) | undefined

  constructor(
    private readonly options: ResolvedHubOptions,
    private readonly rules: HubRules,
    private readonly broker: Broker,
    private readonly admission: AdmissionControl,
    private readonly metrics: HubMetrics,
    private readonly delivery: Delivery,
  ) {
    this.publishNow = (broker as { [PUBLISH_NOW]?: (event: BrokerPublish) => BrokerEntry })[PUBLISH_NOW]
  }

  publish(topics: string | readonly string[], message: PublishMessage): Promise<string> {
    const event = this.encode(topics, message)
    if (this.publishNow) {
      const entry = this.publishNow(event)
      this.metrics.published++
      return Promise.resolve(entry.id)
    }
    const local = this.options.brokerOutage === 'local'
    if (this.outage && local) return Promise.resolve(this.publishLocally(event))
    return this.broker.publish(event).then(
      (entry) => {
        this.metrics.published++
        return entry.id
      },
      (error: unknown) => {
        if (local && error instanceof HeraldBrokerError) return this.publishLocally(event)
        throw error
      },
    )
  }

  /** Checks topics and message, and encodes the event once, without its id (the broker adds that line). */
  private encode(topics: string | readonly string[], message: PublishMessage): BrokerPublish {
    if (this.admission.closed) {
      throw new HeraldClosedError('Cannot publish: the hub is closed', this.admission.closedRetryAfter)
    }
    const list = checkTopics(topics, this.rules)
    if (message === null || typeof message !== 'object') {
      throw new HeraldEncodingError('message', 'ERR_SSE_INVALID_MESSAGE', 'must be an object')
    }
    if ((message as { id?: unknown }).id !== undefined) {
      throw new HeraldEncodingError('id', 'ERR_SSE_INVALID_ID', 'is assigned by the hub; leave it out')
    }
    const { key } = message
    if (key !== undefined && typeof key !== 'string') {
      throw new HeraldEncodingError('key', 'ERR_HERALD_INVALID_KEY', `must be a string, got ${typeof key}`)
    }
    const body = encodeEvent({
      data: message.data,
      event: message.event,
      retry: message.retry,
      comment: message.comment,
    })
    const max = this.rules.maxEventBytes
    if (body.length > max) {
      throw new HeraldEncodingError(
        largestField(message),
        'ERR_HERALD_EVENT_TOO_LARGE',
        `the event encodes to ${body.length} bytes, more than maxEventBytes (${max})`,
      )
    }
    return key === undefined ? { topics: list, body } : { topics: list, body, key }
  }

  /** During an outage with `brokerOutage: 'local'`: this process's subscribers only, no id, no history. */
  private publishLocally(event: BrokerPublish): string {
    this.metrics.published++
    this.delivery.deliver({
      id: '',
      topics: event.topics,
      frame: event.body,
      time: Date.now(),
      key: event.key,
    })
    return ''
  }
}
