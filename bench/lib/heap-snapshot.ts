// Reads a V8 heap snapshot (the JSON `v8.writeHeapSnapshot` writes) into totals per kind of object, so two
// servers can be compared object by object: what one keeps per stream that the other does not.
import { readFileSync } from 'node:fs'

export type HeapTotals = Map<string, { count: number; bytes: number }>

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[]
      node_types: [string[], ...unknown[]]
      edge_fields: string[]
      edge_types: [string[], ...unknown[]]
    }
  }
  nodes: number[]
  edges: number[]
  strings: string[]
}

const STRING_TYPES = new Set(['string', 'concatenated string', 'sliced string'])
const MAX_NAMES = 8

/**
 * Self size and count per kind: a class instance by its constructor (`Subscriber`, `ServerResponse`); a
 * plain object by its property names, which tell a header map from a peer address; strings and compiled
 * code as one row each (their contents say nothing about who holds them); anything else by V8's type and
 * name (`(object properties)` is the out-of-object property storage of objects that grew).
 */
export function heapTotals(path: string): HeapTotals {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot
  const meta = s.snapshot.meta
  const nodeFields = meta.node_fields.length
  const edgeFields = meta.edge_fields.length
  const at = (f: string) => meta.node_fields.indexOf(f)
  const [typeAt, nameAt, sizeAt, edgesAt] = [at('type'), at('name'), at('self_size'), at('edge_count')]
  const [edgeTypeAt, edgeNameAt] = [
    meta.edge_fields.indexOf('type'),
    meta.edge_fields.indexOf('name_or_index'),
  ]
  const nodeTypes = meta.node_types[0]
  const edgeTypes = meta.edge_types[0]
  const totals: HeapTotals = new Map()
  let edge = 0
  for (let i = 0; i < s.nodes.length; i += nodeFields) {
    const type = nodeTypes[s.nodes[i + typeAt]!]!
    const name = s.strings[s.nodes[i + nameAt]!]!
    const edges = s.nodes[i + edgesAt]!
    let key: string
    if (STRING_TYPES.has(type)) key = '(strings)'
    else if (type === 'code') key = '(compiled code)'
    else if (type === 'closure') key = `function ${name || '(anonymous)'}`
    else if (type === 'object' && name === 'Object') {
      const names: string[] = []
      for (let e = edge; e < edge + edges * edgeFields; e += edgeFields) {
        if (edgeTypes[s.edges[e + edgeTypeAt]!] !== 'property') continue
        const n = s.strings[s.edges[e + edgeNameAt]!]!
        if (n !== '__proto__') names.push(n)
      }
      names.sort()
      key = `Object { ${names.slice(0, MAX_NAMES).join(', ')}${names.length > MAX_NAMES ? ', …' : ''} }`
    } else if (type === 'object') key = name
    else key = `${name || '(unnamed)'} (${type})`
    const total = totals.get(key)
    if (total) {
      total.count++
      total.bytes += s.nodes[i + sizeAt]!
    } else totals.set(key, { count: 1, bytes: s.nodes[i + sizeAt]! })
    edge += edges * edgeFields
  }
  return totals
}

/** What `after` holds beyond `before`, divided by `streams`: count and bytes per stream, per kind. */
export function perStream(before: HeapTotals, after: HeapTotals, streams: number): HeapTotals {
  const out: HeapTotals = new Map()
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(key) ?? { count: 0, bytes: 0 }
    const b = after.get(key) ?? { count: 0, bytes: 0 }
    out.set(key, { count: (b.count - a.count) / streams, bytes: (b.bytes - a.bytes) / streams })
  }
  return out
}

export interface BreakdownRow {
  what: string
  /** Objects per stream (Herald's server minus the floor's). */
  count: number
  /** Bytes per stream (Herald's server minus the floor's). */
  bytes: number
}

/**
 * `herald` minus `floor`, per stream: the kinds that differ by at least `minBytes`, largest first, then one
 * row for the rest. The rows add up to the whole difference.
 */
export function difference(floor: HeapTotals, herald: HeapTotals, minBytes = 8): BreakdownRow[] {
  const rows: BreakdownRow[] = []
  let rest = 0
  let restCount = 0
  for (const key of new Set([...floor.keys(), ...herald.keys()])) {
    const f = floor.get(key) ?? { count: 0, bytes: 0 }
    const h = herald.get(key) ?? { count: 0, bytes: 0 }
    const bytes = h.bytes - f.bytes
    const count = h.count - f.count
    if (Math.abs(bytes) >= minBytes) rows.push({ what: key, count, bytes })
    else {
      rest += bytes
      restCount += count
    }
  }
  rows.sort((a, b) => b.bytes - a.bytes)
  rows.push({ what: '(everything else)', count: restCount, bytes: rest })
  return rows
}
