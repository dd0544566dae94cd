import { HeraldTopicError } from '../errors.js'
import type { HubRules } from '../types.js'

/** Longest topic name accepted (in UTF-16 code units). */
export const MAX_TOPIC_LENGTH = 256

// C0 controls and DEL: invisible in logs, and line breaks or NUL would let one topic pose as a list.
// A loop, not a regex: it runs on every publish and is several times faster on short names.
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return true
  }
  return false
}

/** The name rules of a hub with default options. */
type NameRules = Pick<HubRules, 'maxTopicLength' | 'topicPattern'>
const DEFAULT_RULES: NameRules = { maxTopicLength: MAX_TOPIC_LENGTH, topicPattern: undefined }

/** Why `topic` is not a valid topic name under `rules`, or undefined when it is. Never throws. */
export function topicProblem(topic: unknown, rules: NameRules = DEFAULT_RULES): string | undefined {
  if (typeof topic !== 'string') return `must be a string, got ${topic === null ? 'null' : typeof topic}`
  if (topic.length === 0) return 'must not be empty'
  if (topic.length > rules.maxTopicLength) return `must be at most ${rules.maxTopicLength} characters`
  if (hasControl(topic)) return 'must not contain control characters (U+0000 to U+001F, U+007F)'
  if (rules.topicPattern && !rules.topicPattern.test(topic)) return `must match ${rules.topicPattern}`
  return undefined
}

/**
 * Why `topics` (one name or a list) is not acceptable under `rules`, with the offending value, or
 * undefined. `maxCount`: most topics in the list (for a stream; a publish has no limit). Never throws.
 */
export function topicsProblem(
  topics: unknown,
  rules: NameRules = DEFAULT_RULES,
  maxCount = Number.POSITIVE_INFINITY,
): { topic: unknown; rule: string } | undefined {
  if (typeof topics === 'string') {
    const rule = topicProblem(topics, rules)
    return rule === undefined ? undefined : { topic: topics, rule }
  }
  if (!Array.isArray(topics)) return { topic: topics, rule: 'topics must be a string or an array of strings' }
  if (topics.length === 0) return { topic: topics, rule: 'at least one topic is required' }
  for (const topic of topics) {
    const rule = topicProblem(topic, rules)
    if (rule !== undefined) return { topic, rule }
  }
  if (topics.length > maxCount && new Set(topics).size > maxCount) {
    return { topic: topics, rule: `at most ${maxCount} topics per stream, got ${new Set(topics).size}` }
  }
  return undefined
}

/** Checks one or several topics; returns them as a duplicate-free list. Throws `HeraldTopicError`. */
export function checkTopics(
  topics: unknown,
  rules: NameRules = DEFAULT_RULES,
  maxCount = Number.POSITIVE_INFINITY,
): string[] {
  const problem = topicsProblem(topics, rules, maxCount)
  if (problem) throw new HeraldTopicError(problem.topic, problem.rule)
  if (typeof topics === 'string') return [topics]
  const list = topics as string[]
  return list.length === 1 ? [list[0]!] : [...new Set<string>(list)]
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
