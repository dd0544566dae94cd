import { defineProject } from 'vitest/config'
import { heraldProject } from '../../vitest.shared.ts'

// Tests that need packages which may not depend on each other (the conformance suite run against the
// Express adapter or the Redis broker): here, they add no edge to the workspace's build graph.
export default defineProject(heraldProject('integration'))
