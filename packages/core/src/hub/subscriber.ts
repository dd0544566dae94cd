import { concatFrames, concatQueued, FrameQueue, type QueueEntry } from '../backpressure/queue.js'
import type { Broker, BrokerReplay } from '../broker/types.js'
import { encodeEvent } from '../protocol/encode.js'
import type { AttachableSink, SinkOwner } from '../sink/listeners.js'
import type { CloseReason, HubMetrics, Sink, Subscription } from '../types.js'
import type { Observers } from './observe.js'
import type { ResolvedHubOptions } from './options.js'

/** What a subscriber needs from its hub. */
export interface HubContext {
  readonly options: ResolvedHubOptions
  readonly metrics: HubMetrics
  /** The logger and the observers (delivery latency). */
  readonly observers: Observers
  /** Largest chunk handed to a sink in one write. */
  readonly maxWriteBytes: number
  /** Frames for `sub` are queued: flush it in the next tick. */
  schedule(sub: Subscriber): void
  /** Removes `sub` from topics and counters, runs hooks; called once per subscriber. */
  release(sub: Subscriber, reason: CloseReason): void
  /** Keeps an ended sink until it closes, aborting it if it never drains. */
  linger(sink: Sink): void
  readonly now: number
  readonly frames: { heartbeat: Uint8Array; slowConsumer: Uint8Array; retry: Uint8Array | undefined }
  report(error: unknown): void
  /** The broker's id order (`Broker.compare`), when it has one. */
  readonly compareIds: Broker['compare']
}

const NO_QUEUE = new FrameQueue()

/** The stamp of replayed events: older than every live one, and positive (they are events). */
const REPLAYED = 1

enum State {
  /** Waiting for a history lookup: live events are held back, then deduplicated against the replay. */
  Replaying = 0,
  Live = 1,
  Closed = 2,
}

// `Subscriber.flags`: the state in the low two bits, two booleans, then `fastRoom` (signed) above them.
// One small integer instead of four fields: the subscriber's size is the per-stream cost.
const STATE = 3
/** Waiting in the hub's flush list. */
const SCHEDULED = 4
/** The sink said it was full; nothing is written until it drains. */
const BLOCKED = 8
const ROOM_SHIFT = 4
/** The largest `fastRoom` kept (64 MiB): the flags stay a small integer even where those have 31 bits. */
const MAX_FAST_ROOM = (1 << 26) - 1

/** The `fastRoom` of a sink with this high-water mark, -1 without one (or without room). */
function fastRoom(highWaterMark: number | undefined, budgetBytes: number): number {
  const room = typeof highWaterMark === 'number' ? budgetBytes - highWaterMark : -1
  return room >= 0 ? Math.min(Math.floor(room), MAX_FAST_ROOM) : -1
}

/** A subscriber's state that most streams never need, made on first use. */
class Occasional {
  /** Live events held back while a replay is looked up (`Replaying`), and their bytes. */
  held: QueueEntry[] | undefined = undefined
  heldBytes = 0
  /**
   * After an asynchronous replay: the newest id the client has. A live event the broker delivers late
   * (already in the replay) is dropped; cleared by the first newer one.
   */
  replayedUpTo: string | undefined = undefined
  /** Events dropped since the last write: the next write starts with a gap notice. */
  dropped = 0
  /** While blocked: since when, and what the sink held at the last check. */
  blockedSince = 0
  pendingAtCheck = 0
  /** Events replayed from history, for the log line. */
  replayed = 0
  // The `closed` promise is made on first use: most subscriptions are never awaited.
  reason: CloseReason | undefined = undefined
  closedPromise: Promise<CloseReason> | undefined = undefined
  resolveClosed: ((reason: CloseReason) => void) | undefined = undefined
}

/**
 * One connection: its queue, its sink, its backpressure state. The hub never awaits it; frames are
 * queued, and the frames queued in one tick leave in one `sink.write` (up to `maxWriteBytes`).
 */
export class Subscriber implements Subscription, SinkOwner {
  /**
   * The state, SCHEDULED, BLOCKED, and `fastRoom` (`flags >> ROOM_SHIFT`): an event at most this large
   * fits the budget whenever the queue is empty and the sink is not full (then the sink holds less than
   * its high-water mark), so there is no need to read `pending`. -1: always check.
   */
  private flags: number
  // Idle subscribers share one empty queue; a subscriber gets its own on its first frame.
  private queue: FrameQueue = NO_QUEUE
  /** Highest delivery stamp queued: an event published to several of its topics is queued once. */
  lastSeq = 0
  lastWriteAt: number
  /** When it subscribed (the hub's clock), and what it was sent: for the log line when it ends. */
  readonly openedAt: number
  frames = 0
  bytes = 0
  // What only some streams ever need (a replay, a full sink, dropped events, an awaited `closed`) is made
  // on first need: an idle stream's size is the per-subscriber cost.
  private more: Occasional | undefined

  constructor(
    private readonly hub: HubContext,
    private readonly n: number,
    private readonly sink: Sink,
    readonly topics: readonly string[],
    readonly clientKey: string | undefined,
  ) {
    this.lastWriteAt = hub.now
    this.openedAt = this.lastWriteAt
    const attachable = sink as unknown as Partial<AttachableSink>
    if (typeof attachable.attach === 'function') {
      this.flags = (fastRoom(attachable.highWaterMark, hub.options.budgetBytes) << ROOM_SHIFT) | State.Live
      attachable.attach(this)
    } else {
      this.flags = (-1 << ROOM_SHIFT) | State.Live
      sink.onDrain(() => this.onSinkDrain())
      sink.onClose(() => this.onSinkClose())
    }
  }

  /** Events replayed from history, for the log line when it ends. */
  get replayed(): number {
    return this.more?.replayed ?? 0
  }

  /** The subscription id, unique within the hub (made on demand: a string per stream costs memory). */
  get id(): string {
    return String(this.n)
  }

  private occasional(): Occasional {
    this.more ??= new Occasional()
    return this.more
  }

  /** True while it waits in the hub's flush list (so it is listed once); set by the scheduler. */
  get scheduled(): boolean {
    return (this.flags & SCHEDULED) !== 0
  }

  set scheduled(value: boolean) {
    this.flags = value ? this.flags | SCHEDULED : this.flags & ~SCHEDULED
  }

  private get state(): State {
    return this.flags & STATE
  }

  private set state(state: State) {
    this.flags = (this.flags & ~STATE) | state
  }

  /** Asks the hub for a flush, unless one is coming or the sink is full (its drain flushes). */
  private flushSoon(): void {
    if ((this.flags & (SCHEDULED | BLOCKED)) === 0) this.hub.schedule(this)
  }

  private ownQueue(): FrameQueue {
    if (this.queue === NO_QUEUE) this.queue = new FrameQueue()
    return this.queue
  }

  /** Resolves when the subscription ends, with the reason. */
  get closed(): Promise<CloseReason> {
    const more = this.occasional()
    if (!more.closedPromise) {
      more.closedPromise =
        more.reason !== undefined
          ? Promise.resolve(more.reason)
          : new Promise<CloseReason>((resolve) => {
              more.resolveClosed = resolve
            })
    }
    return more.closedPromise
  }

  /** Queues a live event (the hot path: no allocation beyond the queue slot). */
  offer(entry: QueueEntry): void {
    if (entry.seq <= this.lastSeq) return
    const flags = this.flags
    const more = this.more
    if (more !== undefined && more.replayedUpTo !== undefined && (flags & STATE) === State.Live) {
      if ((this.hub.compareIds!(entry.id!, more.replayedUpTo) ?? 1) <= 0) return
      more.replayedUpTo = undefined
    }
    if ((flags & STATE) !== State.Live) {
      if ((flags & STATE) === State.Replaying && more!.held!.at(-1) !== entry) {
        // A store that takes too long to answer: held events count against the budget like queued ones.
        more!.heldBytes += entry.bytes.length
        if (more!.heldBytes > this.hub.options.budgetBytes) this.close('slow-consumer')
        else more!.held!.push(entry)
      }
      return
    }
    this.lastSeq = entry.seq
    const queue = this.queue
    if (queue.length === 0 && (flags & BLOCKED) === 0 && entry.bytes.length <= flags >> ROOM_SHIFT) {
      // The paced case: nothing queued and the sink has room, so the budget holds without asking it.
      if (queue === NO_QUEUE) this.ownQueue().push(entry)
      else queue.push(entry)
      if ((flags & SCHEDULED) === 0) this.hub.schedule(this)
      return
    }
    const { options, metrics } = this.hub
    const result = this.ownQueue().offer(entry, this.sink.pending, options.budgetBytes, options.slowConsumer)
    if (result.coalesced > 0) metrics.coalesced += result.coalesced
    if (!result.accepted) {
      this.close('slow-consumer')
      return
    }
    if (result.dropped > 0) {
      metrics.dropped += result.dropped
      this.occasional().dropped += result.dropped
    }
    this.flushSoon()
  }

  /** Queues frames that bypass the budget: the connect preamble, replayed history, a final event. */
  queueDirect(entry: QueueEntry): void {
    this.ownQueue().push(entry)
  }

  /** Queues a notice (a frame that is not an event, e.g. a gap after a broker outage) and sends it soon. */
  queueNotice(entry: QueueEntry): void {
    if (this.state === State.Closed) return
    this.ownQueue().push(entry)
    this.flushSoon()
  }

  /** Holds live events back until `finishReplay` (for a store that answers asynchronously). */
  startReplay(): void {
    if (this.state !== State.Live) return
    this.state = State.Replaying
    this.occasional().held = []
  }

  /** Ends a hold without a replay (the broker now delivers its topics): sends what was held. */
  goLive(): void {
    if (this.state !== State.Replaying) return
    const more = this.more!
    const held = more.held!
    more.held = undefined
    more.heldBytes = 0
    this.state = State.Live
    for (const e of held) this.offer(e)
    this.flushSoon()
  }

  /**
   * Queues the replay (or a reset notice when it cannot be exact), then the live events held meanwhile,
   * skipping any the replay already had or the client already had (`compare`: the broker's id order).
   */
  finishReplay(result: BrokerReplay, lastEventId: string, compare?: Broker['compare']): void {
    if (this.state === State.Closed) return
    const { metrics, options } = this.hub
    const more = this.occasional()
    const held = more.held
    let upTo: string | undefined
    let replayed: Set<string> | undefined
    if (result.kind === 'reset') {
      metrics.resets++
      const reset = { event: options.resetEvent, data: '', id: result.id }
      if (result.id === undefined) delete reset.id
      this.ownQueue().push({ seq: 0, bytes: encodeEvent(reset) })
      // The client resumes from the reset's id: live events up to it are part of what it was told it missed.
      upTo = result.id
    } else {
      upTo = result.entries.at(-1)?.id ?? lastEventId
      if (held && held.length > 0) replayed = new Set()
      for (const e of result.entries) {
        this.ownQueue().push({ seq: REPLAYED, bytes: e.frame })
        replayed?.add(e.id)
        metrics.replayed++
      }
      more.replayed += result.entries.length
    }
    this.hub.observers.logger?.debug(
      result.kind === 'reset'
        ? { subscriber: this.id, lastEventId, reset: true, reason: result.reason }
        : { subscriber: this.id, lastEventId, reset: false, replayed: result.entries.length },
      'herald: replay',
    )
    more.held = undefined
    more.heldBytes = 0
    this.state = State.Live
    if (held) {
      for (const e of held) {
        if (replayed?.has(e.id!)) continue
        if (upTo !== undefined && compare && (compare(e.id!, upTo) ?? 1) <= 0) continue
        this.offer(e)
      }
      // The broker may still deliver events the replay had (its live channel lags its history).
      if (upTo !== undefined && compare) more.replayedUpTo = upTo
    }
    this.flushSoon()
  }

  /**
   * Writes what is queued: everything in one chunk, unless that is more than the transport should hold
   * at once (`maxWriteBytes`); then chunk by chunk while the sink accepts. Keeping the backlog in the
   * queue rather than in the socket is what lets `drop-oldest` and `latest` act on it.
   * Called by the hub once per tick for scheduled subscribers, and on drain.
   */
  flush(now: number): void {
    const flags = this.flags & ~SCHEDULED
    this.flags = flags
    const queue = this.queue
    if (
      queue.length === 1 &&
      (this.more === undefined || this.more.dropped === 0) &&
      (flags & (STATE | BLOCKED)) === State.Live &&
      !this.sink.closed
    ) {
      // One event since the last write (the paced case): its shared bytes go out as they are.
      const e = queue.takeOnly()
      if (e.seq > 0) {
        const metrics = this.hub.metrics
        metrics.delivered++
        metrics.deliveredBytes += e.bytes.length
        this.frames++
        this.bytes += e.bytes.length
        const observe = this.hub.observers.delivery
        if (observe && e.time !== undefined) observe(Date.now() - e.time)
      }
      this.write(e.bytes, now)
      return
    }
    const { metrics, options } = this.hub
    while ((this.flags & (STATE | BLOCKED)) === State.Live && !this.sink.closed && queue.length > 0) {
      const n = queue.countUpTo(this.hub.maxWriteBytes)
      let bytes = 0
      let events = 0
      let eventBytes = 0
      const observe = this.hub.observers.delivery
      const wallNow = observe ? Date.now() : 0
      for (let i = 0; i < n; i++) {
        const e = queue.at(i)
        const size = e.bytes.length
        bytes += size
        if (e.seq > 0) {
          events++
          eventBytes += size
          if (observe && e.time !== undefined) observe(wallNow - e.time)
        }
      }
      let chunk: Uint8Array
      const more = this.more
      if (more !== undefined && more.dropped > 0 && events > 0) {
        // The client learns that events are missing before it sees the next one (it may refetch).
        const gap = encodeEvent({ event: options.gapEvent, data: String(more.dropped) })
        metrics.gaps++
        more.dropped = 0
        const entries: QueueEntry[] = [{ seq: 0, bytes: gap }]
        for (let i = 0; i < n; i++) entries.push(queue.at(i))
        chunk = concatFrames(entries, bytes + gap.length)
      } else if (n === 1) {
        // The common case: one event, its shared bytes, no copy and no allocation.
        chunk = queue.at(0).bytes
      } else {
        chunk = concatQueued(queue, n, bytes)
      }
      queue.dropFront(n, bytes)
      metrics.delivered += events
      metrics.deliveredBytes += eventBytes
      this.frames += events
      this.bytes += eventBytes
      this.write(chunk, now)
    }
  }

  /** Sends a heartbeat comment if nothing was written for `heartbeatMs`; checks the drain deadline. */
  tick(now: number): void {
    if ((this.flags & STATE) === State.Closed) return
    const { options, metrics } = this.hub
    if ((this.flags & BLOCKED) !== 0) {
      // A sink that took some bytes since the last check is slow, not stuck: restart its clock.
      const more = this.occasional()
      const pending = this.sink.pending
      if (pending < more.pendingAtCheck) more.blockedSince = now
      more.pendingAtCheck = pending
      if (options.drainTimeoutMs > 0 && now - more.blockedSince >= options.drainTimeoutMs) {
        metrics.drainTimeouts++
        this.close('drain-timeout')
      }
      return
    }
    if (
      options.heartbeatMs > 0 &&
      (this.flags & SCHEDULED) === 0 &&
      now - this.lastWriteAt >= options.heartbeatMs
    ) {
      metrics.heartbeats++
      this.write(this.hub.frames.heartbeat, now)
    }
  }

  private write(chunk: Uint8Array, now: number): void {
    this.lastWriteAt = now
    if (!this.sink.write(chunk) && !this.sink.closed) {
      this.flags |= BLOCKED
      const more = this.occasional()
      more.blockedSince = now
      more.pendingAtCheck = this.sink.pending
    }
  }

  /** The peer went away (or the sink was ended). */
  onSinkClose(): void {
    this.close('client-gone')
  }

  /** The sink can take bytes again. */
  onSinkDrain(): void {
    if ((this.flags & BLOCKED) === 0) return
    this.flags &= ~BLOCKED
    if (this.queue.length > 0) this.flush(this.hub.now)
  }

  /**
   * Ends the subscription. `final` frames are written after what is queued (hub close), except for a
   * slow consumer, whose queue is dropped: it gets only the `slow-consumer` notice, if enabled.
   */
  close(reason: CloseReason = 'unsubscribed', final?: Uint8Array[]): void {
    if (this.state === State.Closed) return
    const wasLive = this.state === State.Live
    this.state = State.Closed
    if (this.more) this.more.held = undefined
    const { metrics, options } = this.hub
    const sink = this.sink
    if (reason !== 'client-gone' && !sink.closed) {
      if (reason === 'slow-consumer') {
        metrics.slowConsumerDisconnects++
        this.queue = NO_QUEUE
        if (options.slowConsumerEvent) sink.write(this.hub.frames.slowConsumer)
        sink.end()
        this.hub.linger(sink)
      } else if (reason === 'drain-timeout') {
        this.queue = NO_QUEUE
        if (sink.abort) sink.abort()
        else sink.end()
      } else {
        if (wasLive && this.queue.length > 0) {
          const total = this.queue.bytes
          const entries = this.queue.takeAll()
          for (const e of entries) {
            if (e.seq > 0) {
              metrics.delivered++
              metrics.deliveredBytes += e.bytes.length
              this.frames++
              this.bytes += e.bytes.length
            }
          }
          sink.write(concatFrames(entries, total))
        }
        if (final) for (const f of final) sink.write(f)
        sink.end()
        this.hub.linger(sink)
      }
    }
    this.queue = NO_QUEUE
    const more = this.occasional()
    more.reason = reason
    this.hub.release(this, reason)
    more.resolveClosed?.(reason)
  }
}
