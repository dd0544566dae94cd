import { defineConfig } from 'vitest/config'

// One run covers every package and app. Workspace imports resolve to src/ through the "@herald/source"
// export condition, so no build is needed before testing.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
  },
})
