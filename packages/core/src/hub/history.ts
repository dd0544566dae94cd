import { HeraldConfigError } from '../errors.js'
import type { HistoryStore, ReplayResult, StoredEvent } from '../types.js'

/** Bounds of the in-memory history, per topic. */
export interface MemoryStoreOptions {
  /** Events kept per topic. Default 1000. */
  maxEvents?: number
  /** Events older than this (ms) are forgotten. Default 5 minutes; `Infinity` keeps them by count only. */
  maxAgeMs?: number
}

interface TopicLog {
  events: StoredEvent[]
  /** Index of the oldest retained event in `events` (we drop by advancing it, then compact). */
  head: number
  /** Highest seq forgotten on this topic: a client whose last id is below it missed events. */
  evictedUpTo: number
}

/** The in-memory store: a `HistoryStore` that answers synchronously. */
export interface MemoryStore extends HistoryStore {
  append(event: StoredEvent): void
  since(topics: readonly string[], afterSeq: number): ReplayResult
}

/**
 * The default `HistoryStore`: per-topic ring of the latest events, bounded by count and age.
 * An event published to several topics is kept once and listed under each.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const maxEvents = options.maxEvents ?? 1000
  const maxAgeMs = options.maxAgeMs ?? 5 * 60_000
  if (!Number.isSafeInteger(maxEvents) || maxEvents < 1) {
    throw new HeraldConfigError('maxEvents', 'must be an integer >= 1')
  }
  if (!(maxAgeMs === Number.POSITIVE_INFINITY || (Number.isSafeInteger(maxAgeMs) && maxAgeMs >= 1))) {
    throw new HeraldConfigError('maxAgeMs', 'must be an integer >= 1 or Infinity')
  }
  const logs = new Map<string, TopicLog>()
  // Topics whose log emptied by age are deleted; what they had forgotten is folded in here, so a client
  // asking for such a topic gets a (possibly unneeded, never wrong) reset instead of a silent gap.
  let forgottenFloor = 0
  let appends = 0

  function expire(topic: string, log: TopicLog, oldest: number): void {
    const { events } = log
    while (log.head < events.length && events[log.head]!.time < oldest) {
      log.evictedUpTo = events[log.head]!.seq
      events[log.head++] = undefined as unknown as StoredEvent
    }
    if (log.head === events.length) {
      if (log.evictedUpTo > forgottenFloor) forgottenFloor = log.evictedUpTo
      logs.delete(topic)
    } else if (log.head > 64 && log.head * 2 > events.length) {
      log.events = events.slice(log.head)
      log.head = 0
    }
  }

  function sweep(now: number): void {
    if (maxAgeMs === Number.POSITIVE_INFINITY) return
    for (const [topic, log] of logs) expire(topic, log, now - maxAgeMs)
  }

  return {
    append(event) {
      for (const topic of event.topics) {
        let log = logs.get(topic)
        if (!log) {
          log = { events: [], head: 0, evictedUpTo: 0 }
          logs.set(topic, log)
        }
        log.events.push(event)
        if (log.events.length - log.head > maxEvents) {
          log.evictedUpTo = log.events[log.head]!.seq
          log.events[log.head++] = undefined as unknown as StoredEvent
          if (log.head > 64 && log.head * 2 > log.events.length) {
            log.events = log.events.slice(log.head)
            log.head = 0
          }
        }
      }
      // Age is enforced lazily: on lookup, and every few hundred appends for topics nobody asks about.
      if (++appends % 256 === 0) sweep(event.time)
    },

    since(topics, afterSeq): ReplayResult {
      const now = Date.now()
      const lists: StoredEvent[][] = []
      for (const topic of topics) {
        let log = logs.get(topic)
        if (log && maxAgeMs !== Number.POSITIVE_INFINITY) {
          expire(topic, log, now - maxAgeMs)
          log = logs.get(topic)
        }
        const evictedUpTo = log ? log.evictedUpTo : forgottenFloor
        if (afterSeq < evictedUpTo) return { kind: 'reset' }
        if (!log) continue
        // Binary search for the first event after afterSeq.
        const { events } = log
        let lo = log.head
        let hi = events.length
        while (lo < hi) {
          const mid = (lo + hi) >>> 1
          if (events[mid]!.seq <= afterSeq) lo = mid + 1
          else hi = mid
        }
        if (lo < events.length) lists.push(events.slice(lo))
      }
      if (lists.length <= 1) return { kind: 'events', events: lists[0] ?? [] }
      // Merge by seq; an event listed under several of the topics appears once.
      const merged = lists.flat().sort((a, b) => a.seq - b.seq)
      const events: StoredEvent[] = []
      let last = -1
      for (const e of merged) {
        if (e.seq !== last) events.push(e)
        last = e.seq
      }
      return { kind: 'events', events }
    },
  }
}
