import { existsSync, mkdirSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

/** Chromium from the system (Debian's package); override with HERALD_CHROMIUM. */
export const CHROMIUM_PATH = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium'
/** With HERALD_REQUIRE_BROWSER=1 (CI), a missing browser fails the run instead of skipping it. */
export const REQUIRE_BROWSER = process.env.HERALD_REQUIRE_BROWSER === '1'
export const HAVE_BROWSER = existsSync(CHROMIUM_PATH)
export const SKIP_NOTE = HAVE_BROWSER
  ? ''
  : ` (SKIPPED: no Chromium at ${CHROMIUM_PATH}; install it or set HERALD_CHROMIUM, HERALD_REQUIRE_BROWSER=1 makes this fail)`

export const ARTIFACTS = new URL('../test-artifacts/', import.meta.url)
/** The screenshot the root README shows. */
export const DOCS_SCREENSHOT = new URL('../../../docs/dashboard.png', import.meta.url)

export function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true })
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/** A small seeded PRNG so a test's build durations and log lines are the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** What the page (`window.__dashboard`) and the tests' init script (`__seenRows`) leave on `window`. */
export interface DashboardWindow {
  __dashboard: { state: { lastEventId: string }; stats: { logEvents: number; frames: number } }
  __seenRows: Record<string, number[]>
}
