// Without Chromium the browser checks skip, unless CI demands a browser: then they fail.
import { afterEach, describe, expect, it } from 'vitest'
import { BrowserPool, SkipCase } from '../src/index.js'

const saved = process.env.HERALD_REQUIRE_BROWSER
afterEach(() => {
  if (saved === undefined) delete process.env.HERALD_REQUIRE_BROWSER
  else process.env.HERALD_REQUIRE_BROWSER = saved
})

describe('BrowserPool without Chromium', () => {
  it('skips with the path it looked at', async () => {
    delete process.env.HERALD_REQUIRE_BROWSER
    const error = await new BrowserPool('/nonexistent/chromium').get().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SkipCase)
    expect((error as Error).message).toMatch(/Chromium not found at \/nonexistent\/chromium/)
  })

  it('fails when HERALD_REQUIRE_BROWSER=1', async () => {
    process.env.HERALD_REQUIRE_BROWSER = '1'
    const error = await new BrowserPool('/nonexistent/chromium').get().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect(error).not.toBeInstanceOf(SkipCase)
    expect((error as Error).message).toMatch(/HERALD_REQUIRE_BROWSER=1/)
  })
})
