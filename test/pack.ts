// Packing and installing the way a user would: `pnpm pack` per package, `npm install` in a fresh folder.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The published packages (every non-private one under packages/): folder → package name. */
export const PACKAGES: Record<string, string> = Object.fromEntries(
  readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(ROOT, 'packages', entry.name, 'package.json')))
    .map((entry) => [
      entry.name,
      JSON.parse(readFileSync(join(ROOT, 'packages', entry.name, 'package.json'), 'utf8')),
    ])
    .filter(([, pkg]) => !pkg.private)
    .map(([dir, pkg]) => [dir, pkg.name as string]),
)

/** The sample apps a user copies. */
export const SAMPLE_APPS = ['express-app', 'koa-app', 'hono-app', 'h3-app']

const pexec = promisify(execFile)

/** Runs a command to completion; on failure the error carries its output. */
export async function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = userEnv(),
): Promise<string> {
  try {
    const { stdout, stderr } = await pexec(cmd, args, {
      cwd,
      env,
      maxBuffer: 64 * 1024 * 1024,
    })
    return stdout + stderr
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`.slice(-8000))
  }
}

/**
 * The environment of a user's shell: without the npm_* / pnpm_* variables the monorepo's package manager
 * set for this process (a copy must not see the workspace), and without audit or funding noise.
 */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !/^(npm_|pnpm_|VITEST|NODE_OPTIONS$|FORCE_COLOR$)/i.test(key),
    ),
  )
  return {
    ...env,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'error',
    NODE_ENV: 'development',
    NO_COLOR: '1',
    ...extra,
  }
}

/** Every file of `dir` (relative paths), skipping node_modules. */
export function filesOf(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'dist') return []
    const path = join(dir, entry.name)
    return entry.isDirectory() ? filesOf(path, base) : [relative(base, path)]
  })
}

/** Relative references (`'../x'`, `"../../y"`) in the app's files that point outside `dir`. */
export function escapingReferences(dir: string): string[] {
  const found: string[] = []
  for (const file of filesOf(dir)) {
    const text = readFileSync(join(dir, file), 'utf8')
    for (const match of text.matchAll(/['"`(](\.\.?\/[^'"`)\s]*)/g)) {
      const target = resolve(dir, file, '..', match[1]!)
      if (relative(dir, target).startsWith('..')) found.push(`${file}: ${match[1]}`)
    }
  }
  return found
}

/** Starts `npm start` in `cwd` and resolves with the URL it prints. */
export function startApp(
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  // detached: the whole group (npm, sh, tsx, node) gets the signal at the end.
  const child = spawn('npm', ['start'], { cwd, env, detached: true })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no URL in 60 s:\n${output}`)), 60_000)
    const onData = () => {
      const url = /(http:\/\/localhost:\d+)/.exec(output)?.[1]
      if (!url) return
      clearTimeout(timer)
      child.stdout.off('data', onData)
      resolveStart({ child, url, output: () => output })
    }
    child.stdout.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`npm start exited (${code}) before printing a URL:\n${output}`))
    })
  })
}
