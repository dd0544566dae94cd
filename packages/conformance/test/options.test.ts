// Bad input to the suite's own API is refused with a reason, never ignored.
import { HeraldConfigError } from '@herald/sse-core'
import { describe, expect, it } from 'vitest'
import { checkServer, runConformance } from '../src/index.js'

describe('runConformance and checkServer refuse bad input', () => {
  it('a target without start', () => {
    expect(() => runConformance({ name: 'x' } as never)).toThrow(HeraldConfigError)
    expect(() => runConformance({ name: 'x' } as never)).toThrow(/target\.start: must be a function/)
  })

  it('a target without a name', () => {
    expect(() =>
      runConformance({ start: async () => ({ url: '', close: async () => {} }) } as never),
    ).toThrow(/target\.name/)
  })

  it('an unknown check id', async () => {
    expect(() =>
      runConformance(
        { name: 'x', start: async () => ({ url: '', close: async () => {} }) },
        { only: ['nope'] },
      ),
    ).toThrow(/options\.only: unknown check id\(s\) nope/)
    await expect(
      checkServer({ eventsUrl: 'http://127.0.0.1:9/events', only: ['headers.immediat'] }),
    ).rejects.toThrow(/unknown check id\(s\) headers\.immediat/)
  })
})
