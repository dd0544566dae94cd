// The peer table stays true: every peer in peers/ is run again, and each check must end as it did when
// the table was generated (peers/expected.json). A check that starts passing a peer it failed has gone
// blind; one that starts failing a peer it passed has grown a false alarm. Either way, regenerate the
// table on purpose (pnpm peer-table) or fix the check.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { peers } from '../peers/index.js'
import { runPeer } from '../peers/run.js'
import { packageRoot } from './fixtures/processes.js'

const expected = JSON.parse(readFileSync(path.join(packageRoot, 'peers', 'expected.json'), 'utf8')) as Record<
  string,
  Record<string, string>
>

// Where the table's failures must keep naming the right cause (issue-level promises, not wording).
const causes: Record<string, Record<string, RegExp>> = {
  'better-sse': {
    // JSON-quoted data: a mismatch with the differing characters, never the compressor's fault.
    'compression.per-event': /data differs .*first difference at char 0: got "\\"compression 0/,
    'backpressure.burst': /clients received between \d+ and \d+, of which between 0 and 0 matched/,
  },
  'Express by hand + compression': {
    'compression.per-event': /the compressor buffers the stream/,
  },
}

describe('the peer table', () => {
  it('in the README is the one generated from peers/expected.json', () => {
    const readme = readFileSync(path.join(packageRoot, 'README.md'), 'utf8')
    const mark = { pass: 'pass', fail: '**FAIL**', skip: 'skip' } as Record<string, string>
    for (const [column, peer] of peers.entries()) {
      for (const [id, status] of Object.entries(expected[peer.name] ?? {})) {
        // Column widths may be padded by the formatter.
        const row = new RegExp(`^\\| \`${id.replace('.', '\\.')}\`\\s*\\|(.*)\\|$`, 'm').exec(readme)
        // Rows where every peer skips are left out of the table.
        if (row === null) {
          expect(
            peers.every((p) => expected[p.name]?.[id] === 'skip'),
            `${id} is missing from the table`,
          ).toBe(true)
          continue
        }
        expect(row[1]!.split('|')[column]!.trim(), `${peer.name} × ${id}`).toBe(mark[status])
      }
    }
  })

  for (const peer of peers) {
    it(`${peer.name}: every check ends as the table says`, async () => {
      const results = await runPeer(peer)
      const got = Object.fromEntries(results.map((r) => [r.id, r.status]))
      const changed = results
        .filter((r) => r.status !== expected[peer.name]?.[r.id])
        .map(
          (r) => `${r.id}: ${expected[peer.name]?.[r.id]} → ${r.status}${r.reason ? ` (${r.reason})` : ''}`,
        )
      expect(changed, changed.join('\n')).toEqual([])
      for (const [id, cause] of Object.entries(causes[peer.name] ?? {}))
        expect(results.find((r) => r.id === id)?.reason, `${peer.name} × ${id}`).toMatch(cause)
      for (const r of results) if (r.reason) expect(r.reason, `${peer.name} × ${r.id}`).not.toMatch(/\n/)
      expect(Object.keys(got).sort()).toEqual(Object.keys(expected[peer.name] ?? {}).sort())
    }, 60_000)
  }
})
