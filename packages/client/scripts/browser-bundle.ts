// The browser file: the client in one minified ES module (it has no dependencies), loadable with
// <script type="module"> or import() and no bundler. The build writes it (--write dist/browser.js), the
// size test and the Chromium tests build it in memory, and --readme records its size in the README.
//   tsx scripts/browser-bundle.ts --write dist/browser.js
//   tsx scripts/browser-bundle.ts --readme README.md
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url))

export interface BrowserBundle {
  code: string
  /** Minified bytes. */
  bytes: number
  /** Minified, then gzip at level 9 (what a server sends). */
  gzipBytes: number
}

/** Bundles `src/index.ts` for browsers: ES2022, minified, no external imports. */
export async function bundleBrowser(): Promise<BrowserBundle> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    minify: true,
    write: false,
    legalComments: 'none',
  })
  const code = result.outputFiles[0]!.text
  const bytes = Buffer.byteLength(code)
  return { code, bytes, gzipBytes: gzipSync(code, { level: 9 }).length }
}

/** `text` with every `<!-- size -->…<!-- /size -->` span rewritten to state the bundle's size. */
export function withSize(text: string, bundle: BrowserBundle): string {
  const spans = /<!-- size -->[^<]*<!-- \/size -->/g
  if (!spans.test(text)) throw new Error('no <!-- size --> … <!-- /size --> markers')
  const kb = (bundle.gzipBytes / 1024).toFixed(2)
  const line = `${kb} KB minified and gzipped (${bundle.gzipBytes} bytes; ${bundle.bytes} bytes minified)`
  return text.replace(spans, `<!-- size -->${line}<!-- /size -->`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [flag, file] = process.argv.slice(2)
  const bundle = await bundleBrowser()
  if (flag === '--write' && file) writeFileSync(file, bundle.code)
  else if (flag === '--readme' && file) writeFileSync(file, withSize(readFileSync(file, 'utf8'), bundle))
  else {
    console.error('usage: tsx scripts/browser-bundle.ts --write <file> | --readme <file>')
    process.exit(2)
  }
  console.log(`browser bundle: ${bundle.bytes} bytes minified, ${bundle.gzipBytes} bytes gzipped`)
}
