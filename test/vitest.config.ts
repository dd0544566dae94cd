import { defineProject } from 'vitest/config'

// What a user gets from the registry: packed tarballs installed with npm in folders outside the repository.
// Installs and the copied apps' own test runs take minutes, not seconds.
export default defineProject({
  test: { name: 'packed', include: ['*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 },
})
