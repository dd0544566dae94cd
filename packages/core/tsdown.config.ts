import { defineConfig } from 'tsdown'

// ESM (.mjs) and CommonJS (.cjs), each with its own declarations, for the root and the Node-only subpath.
export default defineConfig({
  entry: { index: 'src/index.ts', 'node/index': 'src/node/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  target: 'node20',
})
