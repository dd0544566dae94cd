#!/usr/bin/env node
// The README's two commands (`npm start`, `npm test`) land here. A fresh machine has Node and npm only:
// no global pnpm, and corepack may fail its signature check, so pnpm is fetched through npx when missing.
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager // "pnpm@10.x.y"
const pinnedMajor = pinned.split('@')[1].split('.')[0]

// Runs a child to completion. Ctrl-C reaches the whole process group anyway; forwarding SIGINT/SIGTERM
// covers a signal sent to this process alone, and waiting lets the child shut down gracefully.
function run(cmd, args, cwd = root) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      stdio: 'inherit',
      shell: process.platform === 'win32' && cmd !== process.execPath,
    })
    const forward = (signal) => child.kill(signal)
    process.on('SIGINT', forward)
    process.on('SIGTERM', forward)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward)
      process.off('SIGTERM', forward)
      resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1))
    })
  })
}

function pnpmCommand() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' })
  if (probe.status === 0 && probe.stdout.trim().split('.')[0] === pinnedMajor) return ['pnpm', []]
  console.log(`[herald] pnpm ${pinnedMajor} not on PATH; using npx ${pinned}`)
  return ['npx', ['--yes', pinned]]
}

const task = process.argv[2]
if (task !== 'test' && task !== 'start') {
  console.error('usage: node scripts/front-door.mjs <start|test>')
  process.exit(2)
}
const [pnpm, pre] = pnpmCommand()
const pn = (...args) => run(pnpm, [...pre, ...args])

// A corepack shim on PATH must not refuse to run because of the `packageManager` field.
process.env.COREPACK_ENABLE_STRICT = '0'
process.env.TURBO_TELEMETRY_DISABLED = '1'
let code = await pn('install', '--frozen-lockfile', '--reporter=append-only')
if (code !== 0) process.exit(code)

if (task === 'test') {
  code = await pn('run', 'test:all')
} else {
  // The demo runs straight under tsx (no package-manager or shell layer in between), so Ctrl-C reaches it
  // once and it shuts down gracefully on every platform.
  const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs')
  code = await run(
    process.execPath,
    [tsx, '--conditions=@herald/source', 'src/main.ts'],
    join(root, 'apps', 'dashboard'),
  )
}
process.exit(code)
