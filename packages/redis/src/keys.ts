import { HeraldConfigError } from '@herald/sse-core'

/** Key and channel names of one namespace; every one carries the namespace as its hash tag. */
export interface Keys {
  meta: string
  clock: string
  stream(topic: string): string
  /** Channel prefix; a topic's channel is this plus the topic. */
  live: string
}

/**
 * The namespace is the hash tag itself (`{ns}`), so it may not hold braces (they would end the tag early)
 * or control characters, and may not be empty (an empty tag is no tag).
 */
export function namespaceKeys(namespace: unknown): Keys {
  if (typeof namespace !== 'string' || namespace.length === 0 || namespace.length > 128) {
    throw new HeraldConfigError('namespace', 'must be a non-empty string of at most 128 characters')
  }
  if (/[{}\u0000-\u001f\u007f]/.test(namespace)) {
    throw new HeraldConfigError('namespace', 'may not contain "{", "}" or control characters')
  }
  const tag = `{${namespace}}`
  return {
    meta: `${tag}:meta`,
    clock: `${tag}:clock`,
    stream: (topic) => `${tag}:t:${topic}`,
    live: `${tag}:live:`,
  }
}

/** Parses a Herald Redis id `<epoch>-<seq>`; undefined for anything else. Never throws. */
export function parseId(id: string): { epoch: string; seq: number } | undefined {
  const dash = id.lastIndexOf('-')
  if (dash <= 0) return
  const digits = id.slice(dash + 1)
  if (!/^\d{1,15}$/.test(digits)) return
  return { epoch: id.slice(0, dash), seq: Number(digits) }
}
