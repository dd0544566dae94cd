/**
 * The last `limit` event ids seen, to drop an event delivered twice across a reconnect.
 *
 * Ids are opaque: Herald's are `<epoch>-<seq>` today, a Redis-backed hub's may be stream ids
 * (`<ms>-<n>`), other servers use UUIDs. No ordering can be assumed, so "newer than the last id" is not
 * a test this client can make; remembering recent ids is. A replay repeats what came just before the
 * cut, so a window of recent ids catches it, and the bound keeps memory flat on a stream that never ends.
 */
export class RecentIds {
  // A Set keeps insertion order: its first entry is the oldest.
  private readonly ids = new Set<string>()
  constructor(private readonly limit: number) {}

  has(id: string): boolean {
    return this.ids.has(id)
  }

  add(id: string): void {
    if (this.limit === 0) return
    this.ids.add(id)
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value as string)
  }

  clear(): void {
    this.ids.clear()
  }
}
