// The server side of the soak: the four sample apps in one process (run with --expose-gc), so its memory and
// handles are measured apart from the clients'. Control is over the IPC channel; only 127.0.0.1 is bound.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'
import { createHub, type Hub } from '@herald/sse-core'

/** History is kept this long, so that it is empty again soon after the publishing stops. */
export const HISTORY_MS = 10_000

export const APPS = ['express-app', 'koa-app', 'hono-app', 'h3-app'] as const
export const PUBLISH_TOKEN = 'soak-publish'

export type Command =
  | { type: 'measure'; gc: boolean }
  | { type: 'snapshot'; file: string }
  | { type: 'subscribers' }
  | { type: 'close' }
export type Reply =
  | { type: 'listening'; urls: Record<string, string> }
  | {
      type: 'measure'
      heapUsed: number
      /** Used bytes per V8 heap space: growth in code space is compiled code, in old space retained objects. */
      spaces: Record<string, number>
      rss: number
      handles: Record<string, number>
      handleCount: number
      unhandled: string[]
      historyEvents: number
    }
  | { type: 'snapshot'; file: string }
  | { type: 'subscribers'; counts: Record<string, number> }
  | { type: 'closed' }

interface RunningApp {
  url: string
  hub: Hub
  close(options?: object): Promise<void>
}

const unhandled: string[] = []
process.on('unhandledRejection', (reason) => unhandled.push(`unhandledRejection: ${String(reason)}`))
process.on('uncaughtException', (error) => unhandled.push(`uncaughtException: ${error.stack ?? error}`))

/** Each app's `start`: from src/server.ts where the app has one, else src/app.ts. */
async function loadStart(app: string): Promise<(options: object) => Promise<RunningApp>> {
  const dir = new URL(`../../apps/${app}/src/`, import.meta.url)
  const file = existsSync(fileURLToPath(new URL('server.ts', dir))) ? 'server.ts' : 'app.ts'
  const mod = (await import(new URL(file, dir).href)) as { start: (options: object) => Promise<RunningApp> }
  return mod.start
}

const send = (reply: Reply) => process.send!(reply)

if (process.send) {
  const running: Record<string, RunningApp> = {}
  for (const app of APPS) {
    const start = await loadStart(app)
    // The apps' default hub, but with a short history: what it holds is data, not a leak, and it must be
    // gone before memory is compared.
    const hub = createHub({ history: { maxAgeMs: HISTORY_MS } })
    running[app] = await start({ port: 0, hub, publishToken: PUBLISH_TOKEN, eventsToken: 'soak-events' })
  }
  send({
    type: 'listening',
    urls: Object.fromEntries(
      Object.entries(running).map(([k, v]) => [k, v.url.replace('localhost', '127.0.0.1')]),
    ),
  })
  process.on('message', async (command: Command) => {
    if (command.type === 'measure') {
      if (command.gc) {
        // Several full collections with turns of the loop between: a pass queues finalizers and weak
        // callbacks (closed sockets' resources), whose memory only a later pass frees.
        for (let i = 0; i < 3; i++) {
          globalThis.gc?.()
          await new Promise((r) => setTimeout(r, 50))
        }
        globalThis.gc?.()
      }
      const handles: Record<string, number> = {}
      const active = process.getActiveResourcesInfo()
      for (const name of active) handles[name] = (handles[name] ?? 0) + 1
      const memory = process.memoryUsage()
      send({
        type: 'measure',
        heapUsed: memory.heapUsed,
        spaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size])),
        rss: memory.rss,
        handles,
        handleCount: active.length,
        unhandled: [...unhandled],
        historyEvents: Object.values(running).reduce((n, app) => n + app.hub.metrics().historyEvents, 0),
      })
    } else if (command.type === 'snapshot') {
      send({ type: 'snapshot', file: writeHeapSnapshot(command.file) })
    } else if (command.type === 'subscribers') {
      send({
        type: 'subscribers',
        counts: Object.fromEntries(Object.entries(running).map(([k, v]) => [k, v.hub.subscriberCount()])),
      })
    } else if (command.type === 'close') {
      for (const app of Object.values(running)) await app.close({ retryMs: 1000 })
      send({ type: 'closed' })
      process.disconnect()
    }
  })
}
