// With REDIS_URL, two dashboard hubs (as two processes would make them) share events and ids.
import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import { createWebSink, type Hub } from '@herald/sse-core'
import { createClient } from '@redis/client'
import { afterAll, expect, it } from 'vitest'
import { createDashboardHub, TOPIC_BUILDS } from '../src/hub.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const namespace = `herald-test-${randomUUID().slice(0, 12)}`

const answers = await new Promise<boolean>((resolve) => {
  const { hostname, port } = new URL(REDIS_URL)
  const socket = connect({ host: hostname, port: Number(port || 6379) })
  socket.setTimeout(1000, () => resolve(false))
  socket.on('error', () => resolve(false))
  socket.on('connect', () => {
    socket.destroy()
    resolve(true)
  })
})
if (!answers) {
  if (process.env.HERALD_REQUIRE_REDIS === '1')
    throw new Error(`HERALD_REQUIRE_REDIS=1 but no Redis at ${REDIS_URL}`)
  console.warn(`Skipping the dashboard's Redis test: no Redis answers at ${REDIS_URL}`)
}

const hubs: Hub[] = []
afterAll(async () => {
  await Promise.all(hubs.map((h) => h.close()))
  if (!answers) return
  const client = createClient({ url: REDIS_URL })
  await client.connect()
  const keys: string[] = []
  for await (const batch of client.scanIterator({ MATCH: `{${namespace}}:*` })) keys.push(...batch)
  if (keys.length > 0) await client.del(keys)
  await client.close()
})

it.skipIf(!answers)('createDashboardHub() runs on the Redis broker when REDIS_URL is set', async () => {
  const env = { REDIS_URL, REDIS_NAMESPACE: namespace }
  const a = createDashboardHub({}, env)
  const b = createDashboardHub({}, env)
  hubs.push(a, b)
  const { sink, stream } = createWebSink()
  b.subscribe({ sink, topics: [TOPIC_BUILDS] })
  const reader = stream.getReader()
  await new Promise((r) => setTimeout(r, 300)) // b's SUBSCRIBE to the topic is acknowledged
  const id = await a.publish(TOPIC_BUILDS, { event: 'log', data: 'from a' })
  let text = ''
  const deadline = Date.now() + 5000
  while (!text.includes('data: from a') && Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(r, 100))])
    if (chunk && !chunk.done) text += new TextDecoder().decode(chunk.value)
  }
  // Published on one hub, streamed by the other, with the id the publisher got.
  expect(text).toContain(`id: ${id}\nevent: log\ndata: from a\n\n`)
  expect(id).toMatch(/^[0-9a-z]+-1$/)
  await reader.cancel()
})
