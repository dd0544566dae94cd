import { HeraldTopicError } from '../errors.js'

/** Longest topic name accepted (in UTF-16 code units). */
export const MAX_TOPIC_LENGTH = 256

/** Why `topic` is not a valid topic name, or undefined when it is. Never throws. */
export function topicProblem(topic: unknown): string | undefined {
  if (typeof topic !== 'string') return `must be a string, got ${topic === null ? 'null' : typeof topic}`
  if (topic.length === 0) return 'must not be empty'
  if (topic.length > MAX_TOPIC_LENGTH) return `must be at most ${MAX_TOPIC_LENGTH} characters`
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
