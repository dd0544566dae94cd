// What every peer server shares: the publish contract's body and a listen/close pair for node:http.
// Each peer file builds its stream the way that library's documentation shows; only this glue is common.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A peer server, started on a free loopback port. */
export interface PeerServer {
  url: string
  close(): Promise<void>
}

/** A peer in the table: its name, how it is built, and how to start it. */
export interface Peer {
  name: string
  /** One line: the library and the way its docs build a stream. */
  built: string
  start(): Promise<PeerServer>
}

/** The publish contract's body, or a reason it is not one. */
export function readPublish(body: unknown): { topic: string; event?: string; data: string } | string {
  if (typeof body !== 'object' || body === null) return 'the body must be a JSON object'
  const { topic, event, data } = body as Record<string, unknown>
  if (typeof topic !== 'string' || topic === '') return 'topic must be a non-empty string'
  if (typeof data !== 'string') return 'data must be a string'
  if (event !== undefined && typeof event !== 'string') return 'event must be a string'
  return event === undefined ? { topic, data } : { topic, event, data }
}

/** The topics of an events request: every `topic` query parameter. */
export const topicsOf = (url: string) => new URL(url, 'http://x').searchParams.getAll('topic')

/** Who listens to what: a set of subscribers per topic. */
export class Topics<T> {
  private readonly byTopic = new Map<string, Set<T>>()
  add(topics: readonly string[], subscriber: T): () => void {
    for (const topic of topics) {
      const set = this.byTopic.get(topic) ?? new Set()
      this.byTopic.set(topic, set)
      set.add(subscriber)
    }
    return () => {
      for (const topic of topics) this.byTopic.get(topic)?.delete(subscriber)
    }
  }
  of(topic: string): readonly T[] {
    return [...(this.byTopic.get(topic) ?? [])]
  }
}

/** Listens on a free loopback port; `close()` ends open streams too. */
export function listen(server: Server): Promise<PeerServer> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          }),
      })
    })
  })
}
