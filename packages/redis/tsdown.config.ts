import { defineConfig } from 'tsdown'

// ESM (.mjs) and CommonJS (.cjs), each with its own declarations; dependencies stay external.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  target: 'node20',
})
