import type { SlowConsumerPolicy } from '../types.js'

/** One frame waiting for a subscriber. Live entries are shared by every subscriber of the publish. */
export interface QueueEntry {
  /**
   * Positive for events: the hub's delivery stamp, increasing with each live event (a subscriber of two
   * topics of one publish keeps it once). 0 for frames that are not events (gap, reset, connected, retry).
   */
  readonly seq: number
  readonly bytes: Uint8Array
  /** The broker's id of a live event (for deduplication against a replay). */
  readonly id?: string
  /** Coalescing key for the `latest` policy; frames without one are never coalesced. */
  readonly key?: string | undefined
}

/** What `offer` did with a frame. */
export interface OfferResult {
  /** False: the policy says the subscriber must be disconnected (nothing was queued). */
  accepted: boolean
  /** Queued events removed to make room (`drop-oldest`), or the offered one when it could not fit. */
  dropped: number
  /** Queued events replaced by a newer one with the same key (`latest`). */
  coalesced: number
}

const ACCEPTED: OfferResult = { accepted: true, dropped: 0, coalesced: 0 }
const REFUSED: OfferResult = { accepted: false, dropped: 0, coalesced: 0 }

/**
 * A FIFO of frames with a running byte count. Slots are reused between flushes (head and tail indices
 * over one array), so a subscriber that gets one event per tick allocates nothing per event.
 */
export class FrameQueue {
  private items: (QueueEntry | undefined)[] = []
  private head = 0
  private tail = 0
  /** Bytes queued. */
  bytes = 0

  get length(): number {
    return this.tail - this.head
  }

  /** The `i`-th oldest queued frame (0 is the oldest). */
  at(i: number): QueueEntry {
    return this.items[this.head + i]!
  }

  push(entry: QueueEntry): void {
    this.items[this.tail++] = entry
    this.bytes += entry.bytes.length
  }

  /** Forgets the `n` oldest frames, which weigh `bytes` in total. */
  dropFront(n: number, bytes: number): void {
    const end = this.head + n
    for (let i = this.head; i < end; i++) this.items[i] = undefined
    this.head = end
    this.bytes -= bytes
    if (this.head === this.tail) this.reset()
  }

  /** Removes and returns the only queued frame (call with `length === 1`): the paced fast path. */
  takeOnly(): QueueEntry {
    const entry = this.items[this.head]!
    this.items[this.head] = undefined
    this.head = 0
    this.tail = 0
    this.bytes = 0
    return entry
  }

  /** Removes and returns the oldest frame. */
  shift(): QueueEntry | undefined {
    if (this.head === this.tail) return undefined
    const entry = this.items[this.head]!
    this.dropFront(1, entry.bytes.length)
    return entry
  }

  /** Removes and returns every queued frame, oldest first. */
  takeAll(): QueueEntry[] {
    const out = this.items.slice(this.head, this.tail) as QueueEntry[]
    this.clear()
    return out
  }

  /** How many of the oldest frames fit in `maxBytes` (always at least one when not empty). */
  countUpTo(maxBytes: number): number {
    if (this.bytes <= maxBytes) return this.tail - this.head
    let n = 0
    let bytes = 0
    for (let i = this.head; i < this.tail; i++) {
      const size = this.items[i]!.bytes.length
      if (n > 0 && bytes + size > maxBytes) break
      bytes += size
      n++
    }
    return n
  }

  clear(): void {
    for (let i = this.head; i < this.tail; i++) this.items[i] = undefined
    this.bytes = 0
    this.reset()
  }

  private reset(): void {
    this.head = 0
    this.tail = 0
    // Keep a small array for reuse; let a large one (a backlog that was drained) go.
    if (this.items.length > 1024) this.items = []
  }

  /** Removes queued events with `key`; returns how many. */
  removeKey(key: string): number {
    let removed = 0
    let w = this.head
    for (let r = this.head; r < this.tail; r++) {
      const e = this.items[r]!
      if (e.key === key && e.seq > 0) {
        removed++
        this.bytes -= e.bytes.length
      } else this.items[w++] = e
    }
    for (let i = w; i < this.tail; i++) this.items[i] = undefined
    this.tail = w
    if (this.head === this.tail) this.reset()
    return removed
  }

  /**
   * Queues `entry` if the subscriber's total (`held`: bytes the sink holds unsent, plus this queue) stays
   * within `budget`; otherwise applies `policy`:
   * - `disconnect`: refuse; the caller ends the stream.
   * - `drop-oldest`: drop queued events from the front until it fits (the offered one too if even an
   *   empty queue cannot take it); the caller owes the client a gap notice.
   * - `latest`: drop queued events with the same key, then queue it; if it still does not fit, refuse.
   */
  offer(entry: QueueEntry, held: number, budget: number, policy: SlowConsumerPolicy): OfferResult {
    const size = entry.bytes.length
    if (held + this.bytes + size <= budget) {
      this.push(entry)
      return ACCEPTED
    }
    if (policy === 'disconnect') return REFUSED
    if (policy === 'latest') {
      const coalesced = entry.key === undefined ? 0 : this.removeKey(entry.key)
      if (held + this.bytes + size > budget) return { accepted: false, dropped: 0, coalesced }
      this.push(entry)
      return { accepted: true, dropped: 0, coalesced }
    }
    let dropped = 0
    while (this.length > 0 && held + this.bytes + size > budget) {
      const e = this.shift()!
      if (e.seq > 0) dropped++
    }
    if (held + this.bytes + size > budget) return { accepted: true, dropped: dropped + 1, coalesced: 0 }
    this.push(entry)
    return { accepted: true, dropped, coalesced: 0 }
  }
}

/** Concatenates frames into one chunk, so one subscriber's ready frames leave in one write. */
export function concatFrames(entries: readonly QueueEntry[], totalBytes: number): Uint8Array {
  if (entries.length === 1) return entries[0]!.bytes
  const out = allocate(totalBytes)
  let offset = 0
  for (const e of entries) {
    out.set(e.bytes, offset)
    offset += e.bytes.length
  }
  return out
}

/** Concatenates the `n` oldest queued frames (`bytes` in total) into one chunk, leaving them queued. */
export function concatQueued(queue: FrameQueue, n: number, bytes: number): Uint8Array {
  const out = allocate(bytes)
  let offset = 0
  for (let i = 0; i < n; i++) {
    const b = queue.at(i).bytes
    out.set(b, offset)
    offset += b.length
  }
  return out
}

// Node's Buffer.allocUnsafe skips zero-filling bytes that are overwritten at once; elsewhere, Uint8Array.
const NodeBuffer = (globalThis as { Buffer?: { allocUnsafe(size: number): Uint8Array } }).Buffer
const allocate: (size: number) => Uint8Array = NodeBuffer
  ? (size) => NodeBuffer.allocUnsafe(size)
  : (size) => new Uint8Array(size)
