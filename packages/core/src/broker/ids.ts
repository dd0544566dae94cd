// Event ids are `<epoch>-<seq>`: the sequence makes history lookup a comparison, the epoch keeps a
// restarted process (or another hub) from answering an id it never issued.

const DIGITS = /^\d{1,15}$/

/** A fresh epoch: time plus randomness in base 36, unique per hub instance. */
export function randomEpoch(): string {
  const rand = Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, '0')
  return `${Date.now().toString(36)}${rand}`
}

/** The id the hub assigns to sequence `seq` in `epoch`. */
export function formatId(epoch: string, seq: number): string {
  return `${epoch}-${seq}`
}

/**
 * The sequence number of `id` when it belongs to `epoch`, else undefined (another epoch, or garbage).
 * Never throws.
 */
export function parseSeq(id: string, epoch: string): number | undefined {
  if (typeof id !== 'string') return
  const dash = id.lastIndexOf('-')
  if (dash <= 0 || id.slice(0, dash) !== epoch) return
  const digits = id.slice(dash + 1)
  if (!DIGITS.test(digits)) return
  return Number(digits)
}
