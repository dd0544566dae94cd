import { defineConfig } from 'tsdown'

// ESM (.mjs) and CommonJS (.cjs), each with its own declarations. The self-contained browser file
// (dist/browser.js, eventsource-parser bundled in) is written by scripts/browser-bundle.ts after this.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  platform: 'neutral',
  fixedExtension: true,
  target: 'es2022',
})
