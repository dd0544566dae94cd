// Compares the soak's heap snapshots (pnpm soak --snapshots): live objects by constructor, before and after,
// largest growth first. Usage: tsx soak/heap-diff.ts [before.heapsnapshot] [after.heapsnapshot]
import { readFileSync } from 'node:fs'

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }
  nodes: number[]
  strings: string[]
}

/** Self size and count per `type:name` (constructor name for objects, the type for strings, code, arrays). */
function summarize(file: string): Map<string, { size: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
  const fields = snap.snapshot.meta.node_fields
  const types = snap.snapshot.meta.node_types[0]
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ]
  const out = new Map<string, { size: number; count: number }>()
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + typeAt]!]!
    const key =
      type === 'object' || type === 'closure' ? `${type}:${snap.strings[snap.nodes[i + nameAt]!]}` : type
    const entry = out.get(key) ?? { size: 0, count: 0 }
    entry.size += snap.nodes[i + sizeAt]!
    entry.count++
    out.set(key, entry)
  }
  return out
}

const dir = new URL('../results/', import.meta.url)
const before = summarize(process.argv[2] ?? new URL('soak-before.heapsnapshot', dir).pathname)
const after = summarize(process.argv[3] ?? new URL('soak-after.heapsnapshot', dir).pathname)
const rows = [...new Set([...before.keys(), ...after.keys()])].map((key) => {
  const b = before.get(key) ?? { size: 0, count: 0 }
  const a = after.get(key) ?? { size: 0, count: 0 }
  return { key, size: a.size - b.size, count: a.count - b.count, after: a.size }
})
const total = (m: Map<string, { size: number }>) => [...m.values()].reduce((n, e) => n + e.size, 0)
console.log(
  `live objects: before ${(total(before) / 1024).toFixed(0)} KiB, after ${(total(after) / 1024).toFixed(0)} KiB`,
)
for (const r of rows.sort((x, y) => y.size - x.size).slice(0, 25)) {
  console.log(
    `${(r.size / 1024).toFixed(1).padStart(9)} KiB ${String(r.count).padStart(7)} objects  ${r.key}`,
  )
}
