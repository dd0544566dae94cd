// The README's example runs as written (in a child process, against the real Redis).
import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, expect, it } from 'vitest'
import { dropNamespace, REDIS_URL, redisOrSkip } from '../src/test-utils/redis.js'

const available = await redisOrSkip()
const here = dirname(fileURLToPath(import.meta.url))
const script = join(here, '.readme-example.ts')

afterAll(async () => {
  rmSync(script, { force: true })
  if (available) await Promise.all([dropNamespace('example'), dropNamespace('example-timeout')])
})

const readme = () => readFileSync(join(here, '..', 'README.md'), 'utf8')

/** Runs a README code block as a script and returns what it printed. */
async function run(example: string | undefined): Promise<string> {
  expect(example).toBeDefined()
  writeFileSync(script, example!)
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--conditions=@herald/source', script],
    { cwd: here, env: { ...process.env, REDIS_URL }, timeout: 15_000 },
  )
  return stdout
}

it.skipIf(!available)('the README example publishes through Redis and exits', async () => {
  const stdout = await run(/## Example\n\n```ts\n([\s\S]*?)```/.exec(readme())?.[1])
  expect(stdout).toMatch(/^published \w+-1; every instance on namespace "example" delivered it\n$/)
})

it.skipIf(!available)('the README commandTimeoutMs example publishes and exits', async () => {
  const stdout = await run(/\n```ts\n([^`]*commandTimeoutMs: 1000[\s\S]*?)```/.exec(readme())?.[1])
  expect(stdout).toMatch(/^published \w+-1\n$/)
})
