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
  if (available) await dropNamespace('example')
})

it.skipIf(!available)('the README example publishes through Redis and exits', async () => {
  const readme = readFileSync(join(here, '..', 'README.md'), 'utf8')
  const example = /## Example\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(example).toBeDefined()
  writeFileSync(script, example!)
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--conditions=@herald/source', script],
    { cwd: here, env: { ...process.env, REDIS_URL }, timeout: 15_000 },
  )
  expect(stdout).toMatch(/^published \w+-1; every instance on namespace "example" delivered it\n$/)
})
