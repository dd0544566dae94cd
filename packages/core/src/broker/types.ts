// The seam between the hub and whatever assigns ids, keeps history and carries events between
// processes. The in-memory broker is the default; `@herald/sse-redis` implements the same interface.

/** An event as every process sees it: the broker's id and the frame bytes (including the `id:` line). */
export interface BrokerEntry {
  /** Assigned by the broker; opaque to users, ordered within the broker. */
  id: string
  topics: readonly string[]
  /** The complete frame, `id:` line first (see `frameWithId`), shared by every local subscriber. */
  frame: Uint8Array
  /** Milliseconds since the Unix epoch when the broker accepted it. */
  time: number
  /** Coalescing key for the `latest` policy, as published (absent: the topic, or the list of topics). */
  key?: string
}

/** What the hub hands the broker: the event encoded ONCE without its id line (`body`), plus routing. */
export interface BrokerPublish {
  topics: readonly string[]
  body: Uint8Array
  key?: string
}

/** Why a Last-Event-ID cannot be replayed exactly; the subscriber gets the reset event instead. */
export type BrokerResetReason = 'unknown-id' | 'other-epoch' | 'too-old' | 'outage'

/** The broker's answer to a Last-Event-ID. */
export type BrokerReplay =
  /** Entries strictly after the id, on any of the topics, in id order, each once. */
  | { kind: 'events'; entries: BrokerEntry[] }
  /**
   * Events may be missing. `id`, when given, is the newest id the broker had issued: the reset event
   * carries it, so the client's next reconnect resumes from there instead of being reset again.
   */
  | { kind: 'reset'; reason: BrokerResetReason; id?: string }

/** How a broker talks back to the hub that attached it. */
export interface BrokerListener {
  /** A live entry for a watched topic (published by this process or another), delivered once. */
  deliver(entry: BrokerEntry): void
  /** Events may have been missed on these topics (after an outage): their subscribers get the gap event. */
  gap(topics: readonly string[]): void
  /** An Error when the broker becomes unavailable, null when it is back. */
  outage(error: Error | null): void
}

/**
 * Assigns ids, appends to history and fans events out, to this process (through the listener) and to
 * others. A hub owns its broker: `hub.close()` closes it.
 */
export interface Broker {
  /** Called once by `createHub`, before anything else. */
  attach(listener: BrokerListener): void
  /**
   * Assigns the id, appends to history and fans out, to this process too (via `listener.deliver`,
   * exactly once). Rejects with `HeraldBrokerError` when the broker is unavailable.
   */
  publish(event: BrokerPublish): Promise<BrokerEntry>
  /**
   * The first local subscriber of `topic` arrived (a broker may batch these). May return a promise that
   * settles once live entries of `topic` reach this process: until then the hub holds that topic's new
   * subscribers (their `connected` event, their replay and live events), so a client that sees its
   * stream live misses nothing, and a replay is read only once nothing more can slip past it.
   */
  watch(topic: string): void | Promise<void>
  /** The last local subscriber of `topic` left. */
  unwatch(topic: string): void
  /** Entries after `lastEventId` on any of `topics` (see `BrokerReplay`), or a reset. */
  replay(topics: readonly string[], lastEventId: string): Promise<BrokerReplay> | BrokerReplay
  /**
   * Optional: the order of two ids this broker issued (negative: `a` came first), or undefined when
   * they cannot be compared. Lets the hub drop a live event a resuming client already has.
   */
  compare?(a: string, b: string): number | undefined
  /** What the history holds in this process, for `hub.metrics()` (`historyEvents`, `historyBytes`). */
  usage?(): { events: number; bytes: number }
  close(): Promise<void>
}
