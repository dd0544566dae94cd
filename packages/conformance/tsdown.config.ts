import { defineConfig } from 'tsdown'

// The library and its helpers subpath in ESM (.mjs) and CommonJS (.cjs) with declarations; the CLI (bin/)
// loads dist/cli.mjs.
export default defineConfig({
  entry: { index: 'src/index.ts', helpers: 'src/helpers.ts', cli: 'src/cli.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  target: 'node20',
})
