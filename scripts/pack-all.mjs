#!/usr/bin/env node
// `pnpm pack:all`: builds every published package and packs it into packs/ exactly as `pnpm publish` would
// upload it (workspace:* ranges become versions, publishConfig.exports drops the source condition).
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..')
const out = join(root, 'packs')
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] })

run('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=./packages/*', '--output-logs=errors-only'], root)
rmSync(out, { recursive: true, force: true })
mkdirSync(out)
for (const dir of readdirSync(join(root, 'packages'))) {
  const cwd = join(root, 'packages', dir)
  const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'))
  if (pkg.private) continue
  run('pnpm', ['pack', '--pack-destination', out], cwd)
}
for (const file of readdirSync(out).sort()) console.log(join('packs', file))
