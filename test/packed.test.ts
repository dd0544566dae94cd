// What a user installs: every package packed with `pnpm pack`, then installed with npm into folders
// outside the repository. Checks the tarballs' contents, require() and TypeScript from a CommonJS project,
// and each sample app copied out on its own: its tests, its typecheck, and `npm start` streaming an event.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { escapingReferences, filesOf, PACKAGES, ROOT, run, SAMPLE_APPS, startApp, userEnv } from './pack.js'

const work = mkdtempSync(join(tmpdir(), 'herald-packed-'))
const tarballs: Record<string, string> = {}

/** Versions of the tools the CommonJS project installs, taken from the repository's own pins. */
const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const pins = rootPkg.devDependencies as Record<string, string>

beforeAll(async () => {
  // Tarballs hold dist/ only, so it must be current: turbo rebuilds what changed (cached otherwise).
  await run(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', '--filter=./packages/*', '--output-logs=errors-only'],
    ROOT,
    {
      ...process.env,
      TURBO_TELEMETRY_DISABLED: '1',
    },
  )
  const packs = join(work, 'tarballs')
  mkdirSync(packs)
  for (const [dir, name] of Object.entries(PACKAGES)) {
    await run('pnpm', ['pack', '--pack-destination', packs], join(ROOT, 'packages', dir), process.env)
    const { version } = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8'))
    tarballs[name] = join(packs, `${name.slice(1).replace('/', '-')}-${version}.tgz`)
    expect(existsSync(tarballs[name]!), `${name}'s tarball`).toBe(true)
  }
})

afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

/** The tarball as npm would unpack it: file list and package.json. */
async function unpacked(name: string): Promise<{ files: string[]; manifest: string }> {
  const list = await run('tar', ['-tzf', tarballs[name]!], work)
  const manifest = await run('tar', ['-xzOf', tarballs[name]!, 'package/package.json'], work)
  return { files: list.split('\n').filter(Boolean), manifest }
}

/** `dependencies` that point at the packed tarballs instead of the registry (also for nested ones). */
function localHerald(): { dependencies: Record<string, string>; overrides: Record<string, string> } {
  const specs = Object.fromEntries(Object.entries(tarballs).map(([name, file]) => [name, `file:${file}`]))
  return { dependencies: specs, overrides: specs }
}

describe('tarballs', () => {
  it.each(Object.values(PACKAGES))(
    '%s ships dist/ and no src/, no source condition, no workspace ranges',
    async (name) => {
      const { files, manifest } = await unpacked(name)
      expect(files.filter((file) => file.startsWith('package/src/'))).toEqual([])
      expect(files.some((file) => /^package\/dist\/.*\.cjs$/.test(file))).toBe(true)
      expect(files.some((file) => /^package\/dist\/.*\.d\.cts$/.test(file))).toBe(true)
      expect(files.filter((file) => /\.test\.|test-utils/.test(file))).toEqual([])
      // No export condition that points into src/ (a script may name it: scripts resolve no imports).
      const { exports, imports, dependencies, peerDependencies } = JSON.parse(manifest)
      expect(JSON.stringify({ exports, imports })).not.toContain('@herald/source')
      expect(JSON.stringify({ dependencies, peerDependencies })).not.toContain('workspace:')
      // Every file the exports map names is in the tarball.
      const targets = [...manifest.matchAll(/"(\.\/dist\/[^"]+)"/g)].map((m) => `package/${m[1]!.slice(2)}`)
      expect(targets.length).toBeGreaterThan(0)
      expect(targets.filter((target) => !files.includes(target))).toEqual([])
    },
  )
})

describe('a CommonJS project', () => {
  it('require()s every package and compiles against its types with tsc', async () => {
    const dir = join(work, 'cjs')
    mkdirSync(dir)
    const { dependencies, overrides } = localHerald()
    // What `npm init -y` writes: CommonJS.
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'cjs-user',
        version: '1.0.0',
        type: 'commonjs',
        dependencies: {
          ...dependencies,
          express: '5.3.0',
          koa: '3.3.0',
          hono: '4.13.19',
          h3: '2.0.8',
          typescript: pins.typescript,
          '@types/node': pins['@types/node'],
          '@types/express': '^5.0.3',
          '@types/koa': '^3.0.0',
        },
        overrides,
      }),
    )
    await run('npm', ['install'], dir)
    const names = Object.values(PACKAGES).filter((name) => name !== '@herald/sse-conformance')
    const script = [...names, '@herald/sse-core/node']
      .map(
        (name) =>
          `console.log(${JSON.stringify(name)}, Object.keys(require(${JSON.stringify(name)})).length)`,
      )
      .join('\n')
    const out = await run('node', ['-e', script], dir)
    for (const name of [...names, '@herald/sse-core/node'])
      expect(out).toMatch(new RegExp(`^${name} [1-9]`, 'm'))

    // A CommonJS TypeScript project (module node16, no "type": "module"): imports compile to require().
    // skipLibCheck as `tsc --init` writes it (@types/koa has errors of its own against newer dependencies).
    // Not h3: h3 v2 itself is ESM-only, so TypeScript refuses it (and its adapter) in a CommonJS file.
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          target: 'es2022',
          strict: true,
          skipLibCheck: true,
          outDir: 'out',
          types: ['node'],
        },
        include: ['index.ts'],
      }),
    )
    writeFileSync(
      join(dir, 'index.ts'),
      [
        "import { createHub, type Hub } from '@herald/sse-core'",
        "import { serveNode } from '@herald/sse-core/node'",
        "import { sse } from '@herald/sse-express'",
        "import { sse as koaSse } from '@herald/sse-koa'",
        "import { sse as honoSse } from '@herald/sse-hono'",
        "import { connect } from '@herald/sse-client'",
        "import express = require('express')",
        'const hub: Hub = createHub()',
        'const app = express()',
        "app.get('/events', sse(hub))",
        'console.log(typeof serveNode, typeof koaSse, typeof honoSse, typeof connect)',
        'void hub.close().then(() => console.log("closed"))',
      ].join('\n'),
    )
    await run('npx', ['tsc', '-p', 'tsconfig.json'], dir)
    expect(readFileSync(join(dir, 'out', 'index.js'), 'utf8')).toContain('require("@herald/sse-express")')
    expect(await run('node', ['out/index.js'], dir)).toMatch(/^function function function function\nclosed/m)
  })
})

describe.each(SAMPLE_APPS)('%s copied out of the repository', (app) => {
  const dir = join(work, app)

  beforeAll(async () => {
    const source = join(ROOT, 'apps', app)
    cpSync(source, dir, { recursive: true, filter: (path) => !/\/(node_modules|dist)$/.test(path) })
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    // What the README says to do in a copy: published versions instead of workspace:* (here, the tarballs).
    const { overrides } = localHerald()
    for (const field of ['dependencies', 'devDependencies']) {
      for (const name of Object.keys(pkg[field] ?? {})) {
        if (pkg[field][name].startsWith('workspace:')) pkg[field][name] = overrides[name]
      }
    }
    pkg.overrides = overrides
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
    await run('npm', ['install'], dir)
  })

  it('refers to nothing outside its folder', () => {
    expect(escapingReferences(dir)).toEqual([])
    expect(filesOf(dir)).toContain('tsconfig.json')
    expect(filesOf(dir)).toContain('vitest.config.ts')
  })

  it('has every package it imports in its own package.json', () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)])
    const imported = new Set<string>()
    for (const file of filesOf(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(dir, file), 'utf8')
      for (const m of text.matchAll(/from '([^'.][^']*)'/g)) {
        const spec = m[1]!
        if (spec.startsWith('node:')) continue
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!)
      }
    }
    expect([...imported].filter((name) => !declared.has(name))).toEqual([])
  })

  it('resolves Herald to the installed dist/, with no source condition', () => {
    for (const name of Object.values(PACKAGES)) {
      const installed = join(dir, 'node_modules', name)
      if (!existsSync(installed)) continue
      expect(existsSync(join(installed, 'src')), `${name}/src`).toBe(false)
      const { exports } = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))
      expect(JSON.stringify(exports), name).not.toContain('@herald/source')
    }
  })

  it('passes its own typecheck and test scripts', async () => {
    await run('npm', ['run', 'typecheck'], dir)
    const out = await run('npm', ['test'], dir)
    expect(out).toMatch(/Tests\s+\d+ passed/)
    expect(out).not.toMatch(/\d+ failed/)
  })

  it('starts with npm start, prints its URL and streams a published event', async () => {
    const token = 'packed-test-token'
    const { child, url, output } = await startApp(
      dir,
      userEnv({ PORT: '0', PUBLISH_TOKEN: token, EVENTS_TOKEN: token }),
    )
    try {
      const controller = new AbortController()
      const stream = await fetch(`${url}/events?topic=demo`, { signal: controller.signal })
      expect(stream.status).toBe(200)
      expect(output()).toContain(`curl -N '${url}/events?topic=demo'`)
      const reader = stream.body!.getReader()
      const published = await fetch(`${url}/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ topic: 'demo', event: 'greeting', data: 'hello from a copy' }),
      })
      expect(published.status).toBe(200)
      let text = ''
      while (!text.includes('hello from a copy')) {
        const { value, done } = await reader.read()
        if (done) break
        text += new TextDecoder().decode(value)
      }
      expect(text).toMatch(/event: greeting\r?\n(id: .*\r?\n)?data: hello from a copy/)
      controller.abort()
    } finally {
      process.kill(-child.pid!, 'SIGTERM')
    }
    const code = await new Promise((resolve) => child.once('exit', resolve))
    expect(code === 0 || code === null, `exit code ${String(code)}:\n${output()}`).toBe(true)
  })
})
