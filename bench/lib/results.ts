import { type ExecSyncOptionsWithStringEncoding, execSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results')

/** The commit measured (with `+` when packages/ or apps/ had uncommitted changes), or undefined outside git. */
function commit(): string | undefined {
  try {
    const options: ExecSyncOptionsWithStringEncoding = {
      cwd: join(resultsDir, '..', '..'),
      stdio: ['ignore', 'pipe', 'ignore'],
      encoding: 'utf8',
    }
    const head = execSync('git rev-parse --short HEAD', options).trim()
    // Changes to what is measured (packages and apps) that are not committed yet.
    const dirty = execSync('git status --porcelain -- packages apps', options)
    return dirty.length > 0 ? `${head}+` : head
  } catch {
    return undefined
  }
}

/** The machine a run happened on, stored with every result so figures are never read out of context. */
export function machine() {
  const cpus = os.cpus()
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    /** 1, 5 and 15 minute load averages when the run ended: how busy the machine was with other work. */
    loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10),
    commit: commit(),
  }
}

/** Writes `results/<name>-<timestamp>.json` and `results/<name>-latest.json`; returns the first path. */
export function saveResults(name: string, data: unknown): string {
  mkdirSync(resultsDir, { recursive: true })
  const body = `${JSON.stringify({ machine: machine(), ...(data as object) }, null, 2)}\n`
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const path = join(resultsDir, `${name}-${stamp}.json`)
  writeFileSync(path, body)
  writeFileSync(join(resultsDir, `${name}-latest.json`), body)
  return path
}

/** Formats a number with thousands separators and at most `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

/** Prints rows as an aligned text table (first row is the header). */
export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  console.log(line(rows[0]!))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const r of rows.slice(1)) console.log(line(r))
}
