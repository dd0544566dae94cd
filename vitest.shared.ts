import { defaultClientConditions, defaultServerConditions } from 'vite'
import type { ViteUserConfig } from 'vitest/config'

/** Per-package vitest settings: resolve workspace packages to their TypeScript source. */
export function heraldProject(name: string, test: NonNullable<ViteUserConfig['test']> = {}): ViteUserConfig {
  return {
    resolve: { conditions: ['@herald/source', ...defaultClientConditions] },
    ssr: { resolve: { conditions: ['@herald/source', ...defaultServerConditions] } },
    test: { name, testTimeout: 20_000, hookTimeout: 20_000, ...test },
  }
}
