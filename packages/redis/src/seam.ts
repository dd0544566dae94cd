// The broker seam as agreed with core (packages/core/src/broker). Until core exports it, this file holds
// the same names so the package builds on its own; it becomes a re-export once core has them.
import { HeraldError } from '@herald/sse-core'

/** An event as every process sees it: the broker's id and the frame bytes (including the `id:` line). */
export interface BrokerEntry {
  id: string
  topics: readonly string[]
  frame: Uint8Array
  time: number
  key?: string
}
/** What the hub hands the broker: the event encoded once without its id line (`body`), plus routing. */
export interface BrokerPublish {
  topics: readonly string[]
  body: Uint8Array
  key?: string
}
export type BrokerResetReason = 'unknown-id' | 'other-epoch' | 'too-old' | 'outage'
export type BrokerReplay =
  | { kind: 'events'; entries: BrokerEntry[] }
  | { kind: 'reset'; reason: BrokerResetReason; id?: string }
export interface BrokerListener {
  deliver(entry: BrokerEntry): void
  gap(topics: readonly string[]): void
  outage(error: Error | null): void
}
export interface Broker {
  attach(listener: BrokerListener): void
  publish(event: BrokerPublish): Promise<BrokerEntry>
  watch(topic: string): void
  unwatch(topic: string): void
  replay(topics: readonly string[], lastEventId: string): Promise<BrokerReplay> | BrokerReplay
  compare?(a: string, b: string): number | undefined
  usage?(): { events: number; bytes: number }
  close(): Promise<void>
}

const encoder = new TextEncoder()

/** `id: <id>\n` followed by `body`: the one place a frame gets its id. */
export function frameWithId(id: string, body: Uint8Array): Uint8Array {
  const head = encoder.encode(`id: ${id}\n`)
  const frame = new Uint8Array(head.length + body.length)
  frame.set(head, 0)
  frame.set(body, head.length)
  return frame
}

/** The broker cannot reach its store: nothing was published. HTTP 503 with `Retry-After`. */
export class HeraldBrokerError extends HeraldError {
  readonly status = 503
  readonly retryAfterSeconds: number
  constructor(message: string, retryAfterSeconds: number, options?: ErrorOptions) {
    super('ERR_HERALD_BROKER_UNAVAILABLE', message, options)
    this.retryAfterSeconds = retryAfterSeconds
  }
}
