import type { SlowConsumerPolicy } from '../types.js'

/** One frame waiting for a subscriber. Live entries are shared by every subscriber of the publish. */
export interface QueueEntry {
  /** Hub sequence number; 0 for frames that are not events (gap, reset, connected, retry). */
  readonly seq: number
  readonly bytes: Uint8Array
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

/** A FIFO of frames with a running byte count. Shifting is O(1); the array compacts now and then. */
export class FrameQueue {
  private items: (QueueEntry | undefined)[] = []
  private head = 0
  /** Bytes queued. */
  bytes = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(entry: QueueEntry): void {
    this.items.push(entry)
    this.bytes += entry.bytes.length
  }

  /** Removes and returns the oldest frame. */
  shift(): QueueEntry | undefined {
    if (this.head === this.items.length) return undefined
    const entry = this.items[this.head]!
    this.items[this.head++] = undefined
    this.bytes -= entry.bytes.length
    if (this.head === this.items.length) this.clear()
    else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return entry
  }

  /** Removes and returns every queued frame, oldest first. */
  takeAll(): QueueEntry[] {
    const out = (this.head === 0 ? this.items : this.items.slice(this.head)) as QueueEntry[]
    this.items = []
    this.head = 0
    this.bytes = 0
    return out
  }

  /** Removes the oldest frames totalling at most `maxBytes` (always at least one), oldest first. */
  takeUpTo(maxBytes: number): { entries: QueueEntry[]; bytes: number } {
    if (this.bytes <= maxBytes) {
      const bytes = this.bytes
      return { entries: this.takeAll(), bytes }
    }
    const entries: QueueEntry[] = []
    let bytes = 0
    while (this.head < this.items.length) {
      const next = this.items[this.head]!
      if (entries.length > 0 && bytes + next.bytes.length > maxBytes) break
      entries.push(this.shift()!)
      bytes += next.bytes.length
    }
    return { entries, bytes }
  }

  clear(): void {
    this.items = []
    this.head = 0
    this.bytes = 0
  }

  /** Removes queued events with `key`; returns how many. */
  removeKey(key: string): number {
    let removed = 0
    const kept: (QueueEntry | undefined)[] = []
    for (let i = this.head; i < this.items.length; i++) {
      const e = this.items[i]!
      if (e.key === key && e.seq > 0) {
        removed++
        this.bytes -= e.bytes.length
      } else kept.push(e)
    }
    if (removed > 0) {
      this.items = kept
      this.head = 0
    }
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
  const out = new Uint8Array(totalBytes)
  let offset = 0
  for (const e of entries) {
    out.set(e.bytes, offset)
    offset += e.bytes.length
  }
  return out
}
