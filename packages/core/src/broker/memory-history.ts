import { resolveHistoryOptions } from '../hub/options.js'
import type { HistoryOptions } from '../types.js'
import type { BrokerEntry } from './types.js'

/** An entry of the memory broker: its id's sequence number rides along, so lookups are comparisons. */
export interface MemoryEntry extends BrokerEntry {
  readonly seq: number
}

/** One retained event, listed in the store's global order and under each of its topics. */
interface Retained {
  /** Undefined once no topic lists it any more (its slot in the global order is then dead). */
  event: MemoryEntry | undefined
  /** Topic logs that still list it. */
  refs: number
}

interface TopicLog {
  entries: Retained[]
  /** Index of the oldest listed entry in `entries` (we drop by advancing it, then compact). */
  head: number
  /** Highest seq forgotten on this topic: a client whose last id is below it missed events. */
  evictedUpTo: number
}

/** The memory broker's history; it answers synchronously. */
export interface MemoryHistory {
  append(event: MemoryEntry): void
  /** Entries on any of `topics` with `seq > afterSeq`, in order, each once; 'reset' when some were forgotten. */
  since(topics: readonly string[], afterSeq: number): MemoryEntry[] | 'reset'
  /** Entries retained (each once, whatever its number of topics) and the bytes of their frames. */
  usage(): { events: number; bytes: number }
  /** Stops the expiry timer. The history still answers, and drops old events on the next append or lookup. */
  close(): void
}

/** Drops `count` leading slots of `list` once they are most of it (amortised O(1) removal from the front). */
function compact<T>(list: T[], head: number): T[] | undefined {
  return head > 64 && head * 2 > list.length ? list.slice(head) : undefined
}

/**
 * The memory broker's history: the latest events per topic, bounded by count per topic, by total bytes
 * across topics (oldest evicted first) and by age (on one unref'd timer, so memory is given back
 * without traffic). An event published to several topics is kept once and listed under each.
 */
export function createMemoryHistory(options: HistoryOptions = {}): MemoryHistory {
  const { maxEvents, maxAgeMs, maxBytes } = resolveHistoryOptions(options)
  const logs = new Map<string, TopicLog>()
  // Every retained event in publish order: the oldest is always at `head`, whatever its topics.
  let order: Retained[] = []
  let head = 0
  let dead = 0
  let events = 0
  let bytes = 0
  // Topics whose log emptied are deleted; what they had forgotten is folded in here, so a client
  // asking for such a topic gets a (possibly unneeded, never wrong) reset instead of a silent gap.
  let forgottenFloor = 0
  let timer: ReturnType<typeof setTimeout> | undefined

  /** A topic log stopped listing `r`: once no log does, its bytes are released. */
  function unlist(r: Retained): void {
    if (--r.refs > 0) return
    events--
    bytes -= r.event!.frame.length
    r.event = undefined
    dead++
  }

  function dropHead(topic: string, log: TopicLog): void {
    const r = log.entries[log.head]!
    log.evictedUpTo = r.event!.seq
    log.entries[log.head++] = undefined as unknown as Retained
    unlist(r)
    if (log.head === log.entries.length) {
      if (log.evictedUpTo > forgottenFloor) forgottenFloor = log.evictedUpTo
      logs.delete(topic)
    } else {
      const rest = compact(log.entries, log.head)
      if (rest) {
        log.entries = rest
        log.head = 0
      }
    }
  }

  /** Forgets the oldest event everywhere it is still listed. */
  function evictOldest(): void {
    const r = order[head]!
    order[head++] = undefined as unknown as Retained
    if (r.event === undefined) dead--
    else {
      // It is the oldest event of the store, so wherever it is still listed it is that log's head.
      for (const topic of r.event.topics) {
        const log = logs.get(topic)
        if (log && log.entries[log.head] === r) dropHead(topic, log)
      }
    }
    if (head === order.length) {
      order = []
      head = 0
    }
  }

  /** Drops dead slots from the global order once they are most of it. */
  function compactOrder(): void {
    const rest = compact(order, head)
    if (rest) {
      order = rest
      head = 0
    }
    if (dead > 64 && dead * 2 > order.length - head) {
      order = order.slice(head).filter((r) => r.event !== undefined)
      head = 0
      dead = 0
    }
  }

  function expire(now: number): void {
    if (maxAgeMs === Number.POSITIVE_INFINITY) return
    const oldest = now - maxAgeMs
    while (head < order.length && (order[head]!.event?.time ?? oldest - 1) < oldest) evictOldest()
    compactOrder()
  }

  /** One timer for the whole store, due when the oldest event expires. */
  function schedule(): void {
    if (timer !== undefined || maxAgeMs === Number.POSITIVE_INFINITY) return
    let first = head
    while (first < order.length && order[first]!.event === undefined) first++
    if (first === order.length) return
    const due = order[first]!.event!.time + maxAgeMs - Date.now()
    timer = setTimeout(onTimer, Math.max(0, due) + 1)
    ;(timer as { unref?: () => void }).unref?.()
  }

  function onTimer(): void {
    timer = undefined
    expire(Date.now())
    schedule()
  }

  return {
    append(event) {
      const r: Retained = { event, refs: 0 }
      for (const topic of event.topics) {
        let log = logs.get(topic)
        if (!log) {
          log = { entries: [], head: 0, evictedUpTo: 0 }
          logs.set(topic, log)
        }
        log.entries.push(r)
        r.refs++
      }
      order.push(r)
      events++
      bytes += event.frame.length
      for (const topic of event.topics) {
        const log = logs.get(topic)
        if (log && log.entries.length - log.head > maxEvents) dropHead(topic, log)
      }
      // An event larger than maxBytes on its own is not kept at all: it would evict everything else.
      while (bytes > maxBytes) evictOldest()
      compactOrder()
      schedule()
    },

    since(topics, afterSeq) {
      expire(Date.now())
      const lists: MemoryEntry[][] = []
      for (const topic of topics) {
        const log = logs.get(topic)
        const evictedUpTo = log ? log.evictedUpTo : forgottenFloor
        if (afterSeq < evictedUpTo) return 'reset'
        if (!log) continue
        // Binary search for the first event after afterSeq.
        const { entries } = log
        let lo = log.head
        let hi = entries.length
        while (lo < hi) {
          const mid = (lo + hi) >>> 1
          if (entries[mid]!.event!.seq <= afterSeq) lo = mid + 1
          else hi = mid
        }
        if (lo < entries.length) lists.push(entries.slice(lo).map((r) => r.event!))
      }
      if (lists.length <= 1) return lists[0] ?? []
      // Merge by seq; an event listed under several of the topics appears once.
      const merged = lists.flat().sort((a, b) => a.seq - b.seq)
      const out: MemoryEntry[] = []
      let last = -1
      for (const e of merged) {
        if (e.seq !== last) out.push(e)
        last = e.seq
      }
      return out
    },

    usage: () => ({ events, bytes }),

    close() {
      clearTimeout(timer)
      timer = undefined
    },
  }
}
