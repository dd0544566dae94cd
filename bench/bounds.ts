// Memory under three abuses of a hub with default options, each measured in a server child process (its
// heap after gc(), over IPC) while this process plays the clients over real sockets on 127.0.0.1:
//   leak    - one `?topic=a&topic=b` stream held open, 5,000 connect/disconnect cycles on `?topic=a%0Ab`
//   history - 5,000 events of 60 KB to 5,000 topics, then 6 s without traffic (history.maxAgeMs: 5 s)
//   caps    - 5,000 streams from one address, then 500 streams of 1,000 topics each
// Run: pnpm --filter @herald/bench run bounds [leak|history|caps]   (default: all three)
import { fork } from 'node:child_process'
import http, { type IncomingMessage } from 'node:http'
import { createHub, type Hub } from '@herald/sse-core'
import { serveNode } from '@herald/sse-core/node'

type Command = { type: 'memory' } | { type: 'count'; topic?: string } | { type: 'history'; events: number }
type Reply = { heapUsed: number; arrayBuffers: number; rss: number } | { count: number } | { done: true }

const MB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`

// ---- server side --------------------------------------------------------------------------------------
if (process.argv[2] === 'server') {
  const hub: Hub = createHub({ history: { maxAgeMs: 5000 } })
  const server = http.createServer((req: IncomingMessage, res) => {
    const info = {
      url: new URL(req.url ?? '/', 'http://127.0.0.1'),
      lastEventId: undefined,
      remoteAddress: req.socket.remoteAddress,
    }
    serveNode(hub, {}, req, info, res).catch(() => res.destroy())
  })
  server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
    process.send!({ port: (server.address() as { port: number }).port })
  })
  const gc = (globalThis as { gc?: () => void }).gc!
  process.on('message', async (cmd: Command) => {
    if (cmd.type === 'memory') {
      gc()
      gc()
      const m = process.memoryUsage()
      process.send!({ heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, rss: m.rss })
    } else if (cmd.type === 'count') {
      process.send!({ count: hub.subscriberCount(cmd.topic) })
    } else {
      const data = 'x'.repeat(60_000)
      for (let i = 0; i < cmd.events; i++) await hub.publish(`topic-${i}`, { data })
      process.send!({ done: true })
    }
  })
  process.on('disconnect', () => process.exit(0))
} else {
  await main()
}

// ---- client side --------------------------------------------------------------------------------------
async function main() {
  const which = process.argv.slice(2)
  const all = which.length === 0
  const child = fork(new URL(import.meta.url).pathname, ['server'], {
    execArgv: [...process.execArgv, '--expose-gc'],
  })
  const port = await new Promise<number>((resolve) =>
    child.once('message', (m: { port: number }) => resolve(m.port)),
  )
  const ask = <R extends Reply>(cmd: Command) =>
    new Promise<R>((resolve) => {
      child.once('message', (m: R) => resolve(m))
      child.send(cmd)
    })
  const memory = () => ask<{ heapUsed: number; arrayBuffers: number; rss: number }>({ type: 'memory' })
  const count = async (topic?: string) => (await ask<{ count: number }>({ type: 'count', topic })).count

  /** Opens a stream and resolves with its status and a way to close it, once the headers arrived. */
  const open = (path: string) =>
    new Promise<{ status: number; close: () => void }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        res.resume()
        resolve({ status: res.statusCode ?? 0, close: () => req.destroy() })
      })
      req.on('error', reject)
    })
  const statuses = (list: { status: number }[]) => {
    const by: Record<number, number> = {}
    for (const { status } of list) by[status] = (by[status] ?? 0) + 1
    return JSON.stringify(by)
  }
  const settle = () => new Promise((r) => setTimeout(r, 500))

  if (all || which.includes('leak')) {
    const held = await open('/?topic=a&topic=b')
    const before = await memory()
    const seen: { status: number }[] = []
    for (let i = 0; i < 5000; i += 25) {
      const batch = await Promise.all(Array.from({ length: 25 }, () => open('/?topic=a%0Ab')))
      for (const s of batch) {
        seen.push(s)
        s.close()
      }
    }
    await settle()
    const after = await memory()
    const stuck = await count('a\nb')
    held.close()
    await settle()
    console.log(
      `leak: 5,000 cycles on a%0Ab (${statuses(seen)}) with a&b open: heap ${MB(before.heapUsed)} -> ` +
        `${MB(after.heapUsed)}; subscriberCount('a\\nb') ${stuck}, all closed: ${await count()}`,
    )
  }

  if (all || which.includes('history')) {
    const before = await memory()
    await ask({ type: 'history', events: 5000 })
    const published = await memory()
    await new Promise((r) => setTimeout(r, 6000))
    const idle = await memory()
    const held = (m: typeof before) => MB(m.heapUsed + m.arrayBuffers)
    console.log(
      `history: 5,000 x 60 KB to 5,000 topics: heap+buffers ${held(before)} -> ${held(published)}, ` +
        `after 6 s without traffic (maxAgeMs 5 s) ${held(idle)}`,
    )
  }

  if (all || which.includes('caps')) {
    const before = await memory()
    const streams: { status: number; close: () => void }[] = []
    for (let i = 0; i < 5000; i += 50) {
      streams.push(...(await Promise.all(Array.from({ length: 50 }, () => open('/?topic=t')))))
    }
    const many = await memory()
    console.log(
      `caps: 5,000 streams from 127.0.0.1: ${statuses(streams)}, heap ${MB(before.heapUsed)} -> ${MB(many.heapUsed)}`,
    )
    for (const s of streams.splice(0)) s.close()
    await settle()
    const quiet = await memory()
    const topics = Array.from({ length: 1000 }, (_, i) => `topic=t${i}`).join('&')
    for (let i = 0; i < 500; i += 25) {
      streams.push(...(await Promise.all(Array.from({ length: 25 }, () => open(`/?${topics}`)))))
    }
    const wide = await memory()
    console.log(
      `caps: 500 streams x 1,000 topics: ${statuses(streams)}, heap ${MB(quiet.heapUsed)} -> ${MB(wide.heapUsed)}`,
    )
    for (const s of streams.splice(0)) s.close()
  }
  child.disconnect()
}
