import { defineProject } from 'vitest/config'
import { heraldProject } from '../../vitest.shared.ts'

export default defineProject(heraldProject('redis'))
