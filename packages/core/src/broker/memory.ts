import { HeraldConfigError } from '../errors.js'
import { resolveEpoch, resolveHistoryOptions } from '../hub/options.js'
import type { HistoryOptions } from '../types.js'
import { frameWithId } from './frame.js'
import { formatId, parseSeq } from './ids.js'
import { createMemoryHistory, type MemoryEntry, type MemoryHistory } from './memory-history.js'
import type { Broker, BrokerListener, BrokerPublish, BrokerReplay } from './types.js'

/** Options of `createMemoryBroker`. */
export interface MemoryBrokerOptions {
  /** Retained history, or false for none. Defaults: 1000 events per topic, 5 minutes, 64 MiB in all. */
  history?: false | HistoryOptions
  /** The id space: ids of another epoch (a restarted process) get a reset. Default: random. */
  epoch?: string
}

/** @internal The hub's fast path: publish without a promise per event (the memory broker answers at once). */
export const PUBLISH_NOW = Symbol('herald.publishNow')

/** The memory broker as the hub sees it. */
export interface MemoryBroker extends Broker {
  [PUBLISH_NOW](event: BrokerPublish): MemoryEntry
}

const KNOWN = new Set(['history', 'epoch'])

/**
 * The default broker: one process, ids `<epoch>-<seq>`, history in memory bounded by count per topic,
 * bytes across topics and age. It delivers synchronously inside `publish`, before the promise resolves,
 * so a hub on it behaves as a plain in-process hub. Throws `HeraldConfigError` naming a bad option.
 *
 * @example
 * const hub = createHub({ broker: createMemoryBroker({ history: { maxEvents: 100 } }) })
 */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): Broker {
  if (options === null || typeof options !== 'object') {
    throw new HeraldConfigError('options', 'must be an object')
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new HeraldConfigError(key, 'is not a memory broker option')
  }
  const epoch = resolveEpoch(options.epoch)
  const history: MemoryHistory | undefined =
    options.history === false
      ? undefined
      : createMemoryHistory(resolveHistoryOptions(options.history, 'history.'))
  let seq = 0
  let listener: BrokerListener | undefined

  const reset = (reason: 'unknown-id' | 'other-epoch' | 'too-old'): BrokerReplay => ({
    kind: 'reset',
    reason,
    id: formatId(epoch, seq),
  })

  const publishNow = (event: BrokerPublish): MemoryEntry => {
    const next = seq + 1
    const id = formatId(epoch, next)
    const entry: MemoryEntry = {
      id,
      topics: event.topics,
      frame: frameWithId(id, event.body),
      time: Date.now(),
      key: event.key,
      seq: next,
    }
    seq = next
    history?.append(entry)
    listener?.deliver(entry)
    return entry
  }

  const broker: MemoryBroker = {
    attach(l) {
      listener = l
    },
    [PUBLISH_NOW]: publishNow,
    publish(event) {
      try {
        return Promise.resolve(publishNow(event))
      } catch (error) {
        return Promise.reject(error)
      }
    },
    // One process: every topic is local, nothing to subscribe to.
    watch() {},
    unwatch() {},
    replay(topics, lastEventId) {
      const after = parseSeq(lastEventId, epoch)
      if (after === undefined) {
        const dash = lastEventId.lastIndexOf('-')
        return reset(dash > 0 && lastEventId.slice(0, dash) !== epoch ? 'other-epoch' : 'unknown-id')
      }
      if (after === seq) return { kind: 'events', entries: [] }
      // An id from the future was never issued here (another process with the same epoch, say).
      if (after > seq) return reset('unknown-id')
      const found = history ? history.since(topics, after) : 'reset'
      return found === 'reset' ? reset('too-old') : { kind: 'events', entries: found }
    },
    compare(a, b) {
      const x = parseSeq(a, epoch)
      const y = parseSeq(b, epoch)
      return x === undefined || y === undefined ? undefined : x - y
    },
    usage: () => history?.usage() ?? { events: 0, bytes: 0 },
    async close() {
      history?.close()
    },
  }
  return broker
}
