#!/usr/bin/env node
// Runs the whole vitest suite once and closes with one plain line, "tests: N passed, N failed, N skipped",
// so that any CI reading the log can count results. A run that executed no test fails.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'

const out = '.vitest-results.json'
rmSync(out, { force: true })
const r = spawnSync(
  'pnpm',
  [
    'exec',
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
)
if (!existsSync(out)) {
  console.error('tests: vitest wrote no results')
  process.exit(r.status || 1)
}
const res = JSON.parse(readFileSync(out, 'utf8'))
const skipped = (res.numPendingTests ?? 0) + (res.numTodoTests ?? 0)
console.log(`tests: ${res.numPassedTests} passed, ${res.numFailedTests} failed, ${skipped} skipped`)
if (res.numTotalTests === 0) {
  console.error('tests: no test ran')
  process.exit(1)
}
process.exit(r.status ?? 1)
