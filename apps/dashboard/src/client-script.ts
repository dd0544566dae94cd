import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

let bundled: Promise<string> | undefined

/**
 * `@herald/sse-client` as one ES module for the page (`/sse-client.js`), bundled from the package when the
 * server starts. `npm start` runs this app from source on a fresh clone, with nothing built yet, so the
 * page cannot be given the package's `dist/browser.js`; bundling here takes a few tens of milliseconds
 * once per process and always serves the client as it is in the tree. In the workspace the
 * `@herald/source` condition picks the TypeScript source; a copy of this app outside it gets the
 * published build.
 */
export function clientScript(): Promise<string> {
  bundled ??= build({
    entryPoints: ['@herald/sse-client'],
    absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
    conditions: ['@herald/source'],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    minify: true,
    write: false,
    legalComments: 'none',
  }).then((result) => result.outputFiles[0]!.text)
  return bundled
}
