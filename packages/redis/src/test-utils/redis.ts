import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import { createClient } from '@redis/client'
import type { BrokerEntry, BrokerListener } from '../seam.js'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** True when a Redis answers PING at `url`'s host and port within a second. */
export function redisAnswers(url = REDIS_URL): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => done(chunk.toString().startsWith('+PONG')))
  })
}

/**
 * Whether tests that need Redis run: they skip with a message when none answers, unless
 * HERALD_REQUIRE_REDIS=1 (CI), where a missing Redis is a failure.
 */
export async function redisOrSkip(): Promise<boolean> {
  if (await redisAnswers()) return true
  if (process.env.HERALD_REQUIRE_REDIS === '1') {
    throw new Error(`HERALD_REQUIRE_REDIS=1 but no Redis answers at ${REDIS_URL}`)
  }
  console.warn(
    `Skipping Redis tests: no Redis answers at ${REDIS_URL} (set HERALD_REQUIRE_REDIS=1 to fail instead)`,
  )
  return false
}

/** A namespace no other test (or process) uses. */
export function uniqueNamespace(): string {
  return `herald-test-${randomUUID().slice(0, 12)}`
}

/** Deletes every key of `namespace` (never anything else). */
export async function dropNamespace(namespace: string, url = REDIS_URL): Promise<void> {
  const client = createClient({ url })
  await client.connect()
  try {
    const keys: string[] = []
    for await (const batch of client.scanIterator({ MATCH: `{${namespace}}:*`, COUNT: 1000 }))
      keys.push(...batch)
    if (keys.length > 0) await client.del(keys)
  } finally {
    await client.close()
  }
}

/** A listener that records what the broker hands it, with helpers to wait for it. */
export function recordingListener() {
  const delivered: BrokerEntry[] = []
  const gaps: (readonly string[])[] = []
  const outages: (Error | null)[] = []
  const waiters = new Set<() => void>()
  const notify = () => {
    for (const w of waiters) w()
  }
  const listener: BrokerListener = {
    deliver(entry) {
      delivered.push(entry)
      notify()
    },
    gap(topics) {
      gaps.push(topics)
      notify()
    },
    outage(error) {
      outages.push(error)
      notify()
    },
  }
  /** Resolves when `check()` holds (checked after each callback), or rejects after `ms`. */
  function until(check: () => boolean, ms = 5000): Promise<void> {
    if (check()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(w)
        reject(new Error('timed out waiting for the broker'))
      }, ms)
      const w = () => {
        if (!check()) return
        clearTimeout(timer)
        waiters.delete(w)
        resolve()
      }
      waiters.add(w)
    })
  }
  return { listener, delivered, gaps, outages, until }
}

const text = new TextDecoder()
export const bytes = (s: string) => new TextEncoder().encode(s)
export const frameText = (e: BrokerEntry) => text.decode(e.frame)
