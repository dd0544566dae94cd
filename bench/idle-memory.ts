// Heap bytes per idle stream, measured in-process after a forced GC: deterministic enough to compare two
// commits on a busy machine (throughput is not). Run: node --expose-gc --import tsx --conditions=@herald/source
// bench/idle-memory.ts [streams]. `web`: Herald's Web sink with its ReadableStream read by a reader, as serveWeb
// hands it to a framework. `node`: serveNode on node:http over loopback (client sockets in the same heap,
// equal in both runs, so compare the difference between commits, not the absolute figure).
import { createServer } from 'node:http'
import { connect, type Socket } from 'node:net'
import { createHub, createWebSink } from '@herald/sse-core'
import { serveNode } from '@herald/sse-core/node'

const N = Number(process.argv[2] ?? 2000)
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with node --expose-gc')

async function heap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc!()
    await new Promise((r) => setTimeout(r, 20))
  }
  return process.memoryUsage().heapUsed
}

async function web(): Promise<number> {
  const hub = createHub()
  const keep: unknown[] = []
  const before = await heap()
  for (let i = 0; i < N; i++) {
    const { sink, stream } = createWebSink()
    const reader = stream.getReader()
    void reader.read()
    keep.push(reader, hub.subscribe({ sink, topics: ['t'] }))
  }
  const after = await heap()
  const per = (after - before) / N
  await hub.close()
  keep.length = 0
  return per
}

async function node(): Promise<number> {
  const hub = createHub()
  const server = createServer((req, res) => {
    void serveNode(
      hub,
      { topics: () => ['t'] },
      req,
      { url: req.url ?? '/', lastEventId: undefined, remoteAddress: undefined },
      res,
    )
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n'))
      s.once('data', () => resolve(s))
      s.once('error', reject)
    })
  // Baseline: the same sockets to a server that answers nothing, so only the stream's cost remains.
  const before = await heap()
  const sockets: Socket[] = []
  for (let i = 0; i < N; i++) sockets.push(await open())
  const after = await heap()
  for (const s of sockets) s.destroy()
  await hub.close()
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  return (after - before) / N
}

const w = await web()
const n = await node()
console.log(
  JSON.stringify({ streams: N, webBytesPerStream: Math.round(w), nodeBytesPerStream: Math.round(n) }),
)
