import { defineConfig } from 'tsup'

// ESM and CommonJS, each with its own declarations (.d.ts / .d.cts). The self-contained browser file
// (dist/browser.js, eventsource-parser bundled in) is written by scripts/browser-bundle.ts after this.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
})
