// The code a new user copies first: the root README's Express snippet plus the core README's /publish
// route, taken from the READMEs as they are now (so the test follows every edit), must pass the CLI's
// default `sse` profile with no failure. It lives at the root, not in the conformance package, as the
// snippet needs the Express adapter: the conformance package depending on it would make a build cycle.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { cli, freePort, repoRoot, startFile } from '../../packages/conformance/test/fixtures/processes.js'

/** Where the snippet is written: beside this test, so its imports resolve from the root's dependencies. */
const generated = path.join(path.dirname(fileURLToPath(import.meta.url)), '.generated')

/** The fenced `ts` blocks of a Markdown file. */
function tsBlocks(file: string): string[] {
  const text = readFileSync(path.join(repoRoot, file), 'utf8')
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((m) => m[1]!)
}

/** The root README's Express example and the core README's publish route, made into one file. */
function readmeApp(port: number): string {
  const express = tsBlocks('README.md').find((b) => b.includes("from '@herald/sse-express'"))
  const route = tsBlocks('packages/core/README.md').find((b) => /\.post\(\s*'\/publish'/.test(b))
  if (!express) throw new Error('README.md has no ts block that imports @herald/sse-express')
  if (!route) throw new Error("packages/core/README.md has no ts block with .post('/publish'")
  let code = /\.post\(\s*'\/publish'/.test(express) ? express : `${express}\n${route}`
  // The route's block names what it uses without importing it (it continues the README's example).
  const imported = new Set(
    [...code.matchAll(/import\s*\{([^}]*)\}/g)].flatMap((m) => m[1]!.split(',').map((s) => s.trim())),
  )
  const missing = ['createPublishGuard', 'publishFromBody', 'checkBearer'].filter(
    (name) => code.includes(`${name}(`) && !imported.has(name),
  )
  if (missing.length > 0) code = `import { ${missing.join(', ')} } from '@herald/sse-core'\n${code}`
  // The only edit: the port the README listens on becomes a free one.
  return code.replace(/\.listen\(\s*3000\s*\)/, `.listen(${port})`)
}

describe('the README example with the core README publish route', () => {
  it('passes the sse profile of the CLI with no failure', async () => {
    const port = await freePort()
    mkdirSync(generated, { recursive: true })
    const file = path.join(generated, `readme-app-${process.pid}.ts`)
    writeFileSync(file, readmeApp(port))
    const token = 'readme-publish-token'
    const server = await startFile(file, { port, env: { PUBLISH_TOKEN: token } })
    try {
      const started = performance.now()
      const { code, stdout } = await cli([
        `${server.url}/events`,
        '--publish-url',
        `${server.url}/publish`,
        '--publish-header',
        `authorization: Bearer ${token}`,
      ])
      const seconds = (performance.now() - started) / 1000
      expect(stdout, server.output()).toMatch(/\n\d+ passed, 0 failed, \d+ skipped\n$/)
      expect(stdout).toMatch(/^PASS\s+http\/1\.1\s+encoding\.round-trip\s/m)
      expect(stdout).toMatch(/^PASS\s+http\/1\.1\s+backpressure\.burst\s/m)
      expect(stdout).toMatch(/^PASS\s+http\/1\.1\s+replay\.header\s/m)
      expect(code).toBe(0)
      console.log(`README example: CLI run took ${seconds.toFixed(1)} s\n${stdout}`)
    } finally {
      await server.close()
      rmSync(file, { force: true })
    }
  }, 90_000)
})
