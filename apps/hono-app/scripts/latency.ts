// Publish → receipt latency through the sample app (compression installed), over a real socket:
// one client with the full browser Accept-Encoding, 1,000 events published one after another, each as soon
// as the previous one arrived. Run: pnpm exec tsx --conditions=@herald/source scripts/latency.ts
import http from 'node:http'
import { createParser } from 'eventsource-parser'
import { start } from '../src/app.js'

const EVENTS = 1_000
const WARMUP = 100

const app = await start()
const received: Array<() => void> = []
const parser = createParser({ onEvent: () => received.shift()?.() })
const request = http.get(`${app.url}/events?topic=latency`, {
  headers: { accept: 'text/event-stream', 'accept-encoding': 'gzip, deflate, br, zstd' },
})
const response = await new Promise<http.IncomingMessage>((resolve) => request.once('response', resolve))
if (response.headers['content-encoding']) throw new Error(`stream is ${response.headers['content-encoding']}`)
response.setEncoding('utf8').on('data', (text: string) => parser.feed(text))
while (app.hub.subscriberCount('latency') === 0) await new Promise((resolve) => setTimeout(resolve, 1))

const samples: number[] = []
for (let i = 0; i < WARMUP + EVENTS; i++) {
  const arrived = new Promise<void>((resolve) => received.push(resolve))
  const sent = performance.now()
  app.hub.publish('latency', { event: 'tick', data: `${i} ${'x'.repeat(64)}` })
  await arrived
  if (i >= WARMUP) samples.push(performance.now() - sent)
}
samples.sort((a, b) => a - b)
const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(3)
console.log(`${EVENTS} events: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`)
request.destroy()
await app.close()
