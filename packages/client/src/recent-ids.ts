/**
 * The last `limit` event ids seen, to drop an event delivered twice across a reconnect.
 *
 * Ids are opaque: Herald's are `<epoch>-<seq>` today, a Redis-backed hub's may be stream ids
 * (`<ms>-<n>`), other servers use UUIDs. No ordering can be assumed, so "newer than the last id" is not
 * a test this client can make; remembering recent ids is. A replay repeats what came just before the
 * cut, so a window of recent ids catches it, and the bound keeps memory flat on a stream that never ends.
 */
export class RecentIds extends Set<string> {
  // A Set keeps insertion order: its first entry is the oldest.
  constructor(private readonly limit: number) {
    super()
  }

  override add(id: string): this {
    if (this.limit) {
      super.add(id)
      if (this.size > this.limit) this.delete(this.values().next().value as string)
    }
    return this
  }
}
