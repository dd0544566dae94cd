// The proof that several processes act as one hub: real child processes running sample apps of different
// frameworks, all with REDIS_URL (one namespace), real HTTP streams, a SIGKILL and a restart.
import { type ChildProcess, spawn } from 'node:child_process'
import { type IncomingMessage, request } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient } from '@redis/client'
import { afterAll, describe, expect, it } from 'vitest'
import { dropNamespace, REDIS_URL, redisOrSkip, uniqueNamespace } from '../src/test-utils/redis.js'

const available = await redisOrSkip()
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const PUBLISH_TOKEN = 'proof-publish-token'
const namespace = uniqueNamespace()

interface App {
  name: string
  url: string
  child: ChildProcess
}

const children = new Set<ChildProcess>()
const names = new Map<ChildProcess, string>()
const crashes: string[] = []

/** Starts `apps/<name>` (its own main.ts, as `pnpm start` does) on a free port with REDIS_URL set. */
function startApp(name: string, port = 0): Promise<App> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@herald/source', 'src/main.ts'], {
    cwd: join(root, 'apps', name),
    env: {
      ...process.env,
      PORT: String(port),
      REDIS_URL,
      REDIS_NAMESPACE: namespace,
      PUBLISH_TOKEN,
      EVENTS_TOKEN: 'proof-events-token',
      NODE_ENV: 'development',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  names.set(child, name)
  let log = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    log += chunk.toString()
  })
  child.on('exit', (code, signal) => {
    children.delete(child)
    // A crash of an app is a failure of the test, with what the app printed.
    if (signal !== 'SIGKILL') crashes.push(`${name} exited (${code ?? signal}): ${log}`)
  })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`${name} did not print its URL: ${out}`)), 20_000)
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      const match = /http:\/\/localhost:\d+/.exec(out)
      if (!match) return
      clearTimeout(timer)
      child.stdout!.off('data', onData)
      resolve({ name, url: match[0], child })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}: ${out}`)))
  })
}

interface Received {
  id: string
  event: string
  data: string
}

/** An event stream over plain HTTP, parsed as it arrives (only what the test needs: id, event, data). */
class Stream {
  readonly events: Received[] = []
  private response: IncomingMessage | undefined
  constructor(readonly app: App) {}

  open(topics: string[], lastEventId?: string): Promise<this> {
    const query = topics.map((t) => `topic=${encodeURIComponent(t)}`).join('&')
    return new Promise((resolve, reject) => {
      const req = request(`${this.app.url}/events?${query}`, {
        headers: lastEventId ? { 'last-event-id': lastEventId } : {},
      })
      req.on('error', reject)
      req.on('response', (res) => {
        if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`))
        this.response = res
        let buffer = ''
        res.setEncoding('utf8')
        res.on('data', (text: string) => {
          buffer += text
          let end = buffer.indexOf('\n\n')
          while (end !== -1) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            end = buffer.indexOf('\n\n')
            const event: Received = { id: '', event: 'message', data: '' }
            let isEvent = false
            for (const line of block.split('\n')) {
              const colon = line.indexOf(':')
              if (colon <= 0) continue
              const field = line.slice(0, colon)
              const value = line.slice(colon + 1).replace(/^ /, '')
              if (field === 'id') event.id = value
              else if (field === 'event') event.event = value
              else if (field === 'data') {
                event.data = value
                isEvent = true
              }
            }
            if (isEvent) this.events.push(event)
          }
        })
        res.on('error', () => {})
        resolve(this)
      })
      req.end()
    })
  }

  close(): void {
    this.response?.destroy()
  }
}

async function publish(app: App, data: string): Promise<string> {
  const res = await fetch(`${app.url}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${PUBLISH_TOKEN}` },
    body: JSON.stringify({ topic: 'proof', data }),
  })
  const body = (await res.json()) as { id?: string; error?: string }
  if (res.status !== 200 || !body.id)
    throw new Error(`publish on ${app.name}: ${res.status} ${JSON.stringify(body)}`)
  return body.id
}

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Waits until `count` processes have subscribed to the topic's channel in Redis. */
async function subscribedProcesses(topic: string, count: number): Promise<void> {
  const probe = createClient({ url: REDIS_URL })
  await probe.connect()
  try {
    const channel = `{${namespace}}:live:${topic}`
    const deadline = Date.now() + 10_000
    for (;;) {
      const reply = (await probe.sendCommand(['PUBSUB', 'NUMSUB', channel])) as [string, number]
      if (Number(reply[1]) === count) return
      if (Date.now() > deadline) {
        const alive = [...children].map((c) => names.get(c)).join(', ')
        throw new Error(`${reply[1]} processes subscribed to ${topic}, not ${count} (running: ${alive})`)
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  } finally {
    await probe.close()
  }
}

const seq = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1))
const epoch = (id: string) => id.slice(0, id.lastIndexOf('-'))
const payloads = (events: Received[]) => events.map((e) => [e.id, e.data])

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  if (available) await dropNamespace(namespace)
})

describe.skipIf(!available)('the four sample apps, each in its own process, on one Redis', () => {
  it('act as one hub: fan-out everywhere in order, resume on another process after a SIGKILL, ids never reused', async () => {
    const [express, hono, h3, koa] = await Promise.all([
      startApp('express-app'),
      startApp('hono-app'),
      startApp('h3-app'),
      startApp('koa-app'),
    ])
    const apps = [express, hono, h3, koa]
    const streams = await Promise.all(
      apps.flatMap((app) => [new Stream(app).open(['proof']), new Stream(app).open(['proof'])]),
    )
    await subscribedProcesses('proof', 4)

    // Publish on every process in turn: every subscriber on every process gets each event once, in order.
    const sent: [string, string][] = []
    for (let i = 0; i < 30; i++) {
      const data = `event ${i}`
      sent.push([await publish(apps[i % apps.length]!, data), data])
    }
    await waitFor(() => streams.every((s) => s.events.length >= 30), 'every stream to get 30 events')
    await new Promise((r) => setTimeout(r, 100))
    for (const s of streams) expect(payloads(s.events)).toEqual(sent)
    const ids = sent.map(([id]) => id)
    expect(new Set(ids).size).toBe(30)
    expect(new Set(ids.map(epoch)).size).toBe(1)
    expect(ids.map(seq)).toEqual([...ids.map(seq)].sort((a, b) => a - b))

    // Kill the process a client is on; it misses events; it reconnects to another with its Last-Event-ID.
    const client = streams[0]!
    const lastSeen = client.events.at(-1)!.id
    express.child.kill('SIGKILL')
    await new Promise((r) => express.child.once('exit', r))
    const missed: [string, string][] = []
    for (let i = 30; i < 40; i++) {
      const data = `event ${i}`
      missed.push([await publish(i % 2 ? hono : h3, data), data])
    }
    const resumed = await new Stream(hono).open(['proof'], lastSeen)
    await waitFor(() => resumed.events.length >= 10, 'the missed events on the other process')
    await new Promise((r) => setTimeout(r, 200))
    expect(payloads(resumed.events)).toEqual(missed)
    for (const s of streams.slice(2)) expect(payloads(s.events)).toEqual([...sent, ...missed])

    // Restart the killed process: its new ids continue the one sequence, never repeating an old id.
    const again = await startApp('express-app')
    const fresh = new Stream(again)
    await fresh.open(['proof'])
    await subscribedProcesses('proof', 4)
    const next = await publish(again, 'after restart')
    expect([...ids, ...missed.map(([id]) => id)]).not.toContain(next)
    expect(epoch(next)).toBe(epoch(ids[0]!))
    expect(seq(next)).toBeGreaterThan(seq(missed.at(-1)![0]))
    await waitFor(() => resumed.events.length === 11 && fresh.events.length === 1, 'the new event everywhere')
    expect(resumed.events.at(-1)!.id).toBe(next)
    for (const s of [...streams.slice(2), resumed, fresh]) s.close()
    expect(crashes).toEqual([])
  }, 60_000)
})
