#!/usr/bin/env node
// The README's two commands (`npm start`, `npm test`) land here. A fresh machine has Node and npm only:
// no global pnpm, and corepack may fail its signature check, so pnpm is fetched through npx when missing.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager // "pnpm@10.x.y"
const pinnedMajor = pinned.split('@')[1].split('.')[0]

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
    ...opts,
  })
  if (r.error) throw r.error
  return r.status ?? 1
}

function pnpmCommand() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' })
  if (probe.status === 0 && probe.stdout.trim().split('.')[0] === pinnedMajor) return ['pnpm', []]
  console.log(`[herald] pnpm ${pinnedMajor} not on PATH; using npx ${pinned}`)
  return ['npx', ['--yes', pinned]]
}

const task = process.argv[2]
const [pnpm, pre] = pnpmCommand()
const pn = (...args) => run(pnpm, [...pre, ...args])

// A corepack shim on PATH must not refuse to run because of the `packageManager` field.
process.env.COREPACK_ENABLE_STRICT = '0'
let code = pn('install', '--frozen-lockfile', '--reporter=append-only')
if (code !== 0) process.exit(code)

if (task === 'test') {
  code = pn('run', 'test:all')
} else if (task === 'start') {
  code = pn('--filter', '@herald/dashboard', 'run', 'start')
} else {
  console.error(`usage: node scripts/front-door.mjs <start|test>`)
  code = 2
}
process.exit(code)
