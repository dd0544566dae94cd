import { defaultClientConditions, defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

/** The sample apps: each has a vitest.config.ts of its own that works when the app is copied out. */
const SAMPLE_APPS = ['express-app', 'koa-app', 'hono-app', 'h3-app']

// One run covers every package and app. Workspace imports resolve to src/ through the "@herald/source"
// export condition, so no build is needed before testing; the sample apps' own configs know nothing of
// it (a copy resolves the published dist/), so it is added here.
export default defineConfig({
  test: {
    projects: [
      'packages/*',
      'apps/dashboard',
      'test',
      'test/integration',
      ...SAMPLE_APPS.map((app) => ({
        extends: `./apps/${app}/vitest.config.ts`,
        root: `./apps/${app}`,
        resolve: { conditions: ['@herald/source', ...defaultClientConditions] },
        ssr: { resolve: { conditions: ['@herald/source', ...defaultServerConditions] } },
      })),
    ],
  },
})
