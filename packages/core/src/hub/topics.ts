import { HeraldTopicError } from '../errors.js'

/** Longest topic name accepted (in UTF-16 code units). */
export const MAX_TOPIC_LENGTH = 256

// C0 controls and DEL: invisible in logs, and line breaks or NUL would let one topic pose as a list.
const CONTROL = /[\u0000-\u001f\u007f]/

/** Why `topic` is not a valid topic name, or undefined when it is. Never throws. */
export function topicProblem(topic: unknown): string | undefined {
  if (typeof topic !== 'string') return `must be a string, got ${topic === null ? 'null' : typeof topic}`
  if (topic.length === 0) return 'must not be empty'
  if (topic.length > MAX_TOPIC_LENGTH) return `must be at most ${MAX_TOPIC_LENGTH} characters`
  if (CONTROL.test(topic)) return 'must not contain control characters (U+0000 to U+001F, U+007F)'
  return undefined
}

/** Checks one or several topics; returns them as a duplicate-free list. Throws `HeraldTopicError`. */
export function checkTopics(topics: unknown): string[] {
  if (typeof topics === 'string') {
    const problem = topicProblem(topics)
    if (problem) throw new HeraldTopicError(topics, problem)
    return [topics]
  }
  if (!Array.isArray(topics))
    throw new HeraldTopicError(topics, 'topics must be a string or an array of strings')
  if (topics.length === 0) throw new HeraldTopicError(topics, 'at least one topic is required')
  for (const t of topics) {
    const problem = topicProblem(t)
    if (problem) throw new HeraldTopicError(t, problem)
  }
  return topics.length === 1 ? [topics[0]] : [...new Set<string>(topics)]
}

/**
 * A key that names a list of several topics exactly: each topic behind its length, so no character a
 * topic may hold can make two different lists (`['a', 'b']`, `['a\nb']`) share a key.
 */
export function topicListKey(topics: readonly string[]): string {
  let key = ''
  for (const topic of topics) key += `${topic.length}:${topic}`
  return key
}

interface SharedList {
  topics: readonly string[]
  refs: number
}

/**
 * Identical topic lists shared between subscribers: one array per distinct list instead of one per
 * stream. Single topics and lists are kept apart, so a topic is never mistaken for a list's key.
 */
export class SharedTopicLists {
  private readonly singles = new Map<string, SharedList>()
  private readonly lists = new Map<string, SharedList>()

  /** The shared array equal to `topics` (which becomes it when it is the first of its kind). */
  acquire(topics: readonly string[]): readonly string[] {
    const [map, key] = this.slot(topics)
    const shared = map.get(key)
    if (shared) {
      shared.refs++
      return shared.topics
    }
    map.set(key, { topics, refs: 1 })
    return topics
  }

  /** Gives back a list `acquire` returned; the last one out removes it. */
  release(topics: readonly string[]): void {
    const [map, key] = this.slot(topics)
    const shared = map.get(key)
    if (shared && --shared.refs === 0) map.delete(key)
  }

  /** Distinct lists held. */
  get size(): number {
    return this.singles.size + this.lists.size
  }

  private slot(topics: readonly string[]): [Map<string, SharedList>, string] {
    return topics.length === 1 ? [this.singles, topics[0]!] : [this.lists, topicListKey(topics)]
  }
}
