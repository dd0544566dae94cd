import { createHash } from 'node:crypto'
import type { CommandOptions } from '@redis/client/dist/lib/client/commands-queue.js'
import type { RedisClient } from './broker.js'

/** A Lua script sent by its SHA1, and in full only when the server does not know it (after a restart). */
export interface LoadedScript {
  readonly sha: string
  run(
    client: RedisClient,
    keyCount: number,
    args: (string | Buffer)[],
    options: CommandOptions,
  ): Promise<unknown>
}

export function loadScript(source: string): LoadedScript {
  const sha = createHash('sha1').update(source).digest('hex')
  return {
    sha,
    run(client, keyCount, args, options) {
      const count = String(keyCount)
      return client.sendCommand(['EVALSHA', sha, count, ...args], options).catch((error: unknown) => {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
        return client.sendCommand(['EVAL', source, count, ...args], options)
      })
    },
  }
}
