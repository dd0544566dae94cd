import { defineConfig } from 'tsdown'

// The library in ESM (.mjs) and CommonJS (.cjs) with declarations; the CLI (bin/) loads dist/cli.mjs.
export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  target: 'node20',
})
