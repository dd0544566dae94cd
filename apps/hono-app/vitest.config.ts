import { defineConfig } from 'vitest/config'

// Real servers and sockets: give each test and hook time on a loaded machine.
export default defineConfig({
  test: { name: 'hono-app', testTimeout: 20_000, hookTimeout: 20_000 },
})
