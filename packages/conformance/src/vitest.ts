// The vitest entry: one describe per target, one test per check and protocol.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { HeraldConfigError, type Hub, type HubOptions } from '@herald/sse-core'
import { afterAll, describe, expect, it } from 'vitest'
import { allCases, casesOf } from './cases/index.js'
import type { Protocol } from './http.js'
import {
  applicability,
  BrowserPool,
  checkOnly,
  type RunEnvironment,
  runCase,
  targetServer,
} from './runner.js'
import { type ConformanceTarget, PROFILES, type Profile } from './target.js'

/** Options for {@link runConformance}. */
export interface RunConformanceOptions {
  /** Only these check ids (default: all). */
  only?: readonly string[]
  /** Where screenshots go. Default: `test-artifacts/` next to the nearest package.json of the test file. */
  artifactsDir?: string
  /** Per-check timeout in milliseconds. Default 60 000. */
  timeoutMs?: number
  /** Which checks: `herald-app` (default: the protocol and the sample apps' conventions) or `sse`. */
  profile?: Profile
}

/**
 * Registers the conformance suite for `target` with vitest: `describe(target.name)` with one test per
 * check, over HTTP/1.1 and, when `target.h2` is set, over h2c. Call it at the top level of a test file.
 *
 * @example
 * import { runConformance } from '@herald/sse-conformance'
 * import { start } from '../src/server.js'
 * runConformance({ name: 'express-app', start })
 */
export function runConformance(target: ConformanceTarget, options: RunConformanceOptions = {}): void {
  if (typeof target?.name !== 'string' || target.name === '') {
    throw new HeraldConfigError('target.name', 'must be a non-empty string (the describe name)')
  }
  if (typeof target.start !== 'function') {
    throw new HeraldConfigError(
      'target.start',
      'must be a function: start({ hub, port, http2 }) => { url, close }',
    )
  }
  if (
    target.auth !== undefined &&
    (typeof target.auth?.path !== 'string' || !target.auth.path.startsWith('/'))
  ) {
    throw new HeraldConfigError('target.auth.path', 'must be a path starting with "/"')
  }
  checkOnly(options.only, (rule) => new HeraldConfigError('options.only', rule))
  const profile = options.profile ?? 'herald-app'
  if (!PROFILES.includes(profile)) {
    throw new HeraldConfigError(
      'options.profile',
      `must be one of ${PROFILES.join(', ')}, got ${String(profile)}`,
    )
  }
  const browsers = new BrowserPool()
  let createHub: ((options?: HubOptions) => Hub) | undefined
  const env = (): RunEnvironment => ({
    source: targetServer(target, (hubOptions) => createHub!(hubOptions)),
    browsers,
    artifactsDir: options.artifactsDir ?? defaultArtifactsDir(),
    captureErrors: true,
  })
  const protocols: Protocol[] = target.h2 ? ['http1', 'h2'] : ['http1']
  const offers = { configurable: true, publish: true, auth: target.auth !== undefined }

  describe(target.name, () => {
    afterAll(() => browsers.close())
    for (const protocol of protocols) {
      describe(protocol === 'h2' ? 'h2c' : 'HTTP/1.1', () => {
        for (const check of options.only ? allCases : casesOf(profile)) {
          if (options.only && !options.only.includes(check.id)) continue
          const why = applicability(check, protocol, offers)
          if (why !== undefined && (why.startsWith('not applicable') || why.startsWith('only over'))) continue
          it(
            `${check.id}: ${check.title}`,
            async ({ skip, annotate }) => {
              if (why !== undefined) skip(why)
              createHub ??= (await import('@herald/sse-core')).createHub
              const result = await runCase(check, protocol, env())
              for (const note of result.notes) await annotate(note)
              if (result.status === 'skip') skip(result.reason)
              if (result.status === 'fail') throw new Error(`${check.id} over ${protocol}: ${result.reason}`)
            },
            options.timeoutMs ?? 60_000,
          )
        }
      })
    }
  })
}

// `test-artifacts/` of the package whose test is running (sample apps keep their screenshots there).
function defaultArtifactsDir(): string {
  const testPath = expect.getState().testPath
  let dir = testPath ? path.dirname(testPath) : process.cwd()
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir)
  return path.join(dir, 'test-artifacts')
}
