import { HeraldConfigError } from '@herald/sse-core'
import { EventSource } from 'eventsource'
import { afterEach, describe, expect, it } from 'vitest'
import { type Dashboard, start } from '../src/app.js'
import { BuildRunner } from '../src/builds.js'
import { BuildLimitError, BuildRunnerStoppedError } from '../src/errors.js'
import { createDashboardHub } from '../src/hub.js'

let d: Dashboard | undefined
afterEach(() => d?.close())

/** Collects `builds` events over a real stream until `until` says stop. */
async function follow(
  url: string,
  start: () => Promise<unknown>,
  until: (type: string, data: Record<string, unknown>) => boolean,
) {
  const es = new EventSource(`${url}/events`)
  const events: Array<{ type: string; data: Record<string, unknown> }> = []
  await new Promise<void>((resolve) => es.addEventListener('connected', () => resolve()))
  const done = new Promise<void>((resolve) => {
    for (const type of ['build-started', 'stage', 'progress', 'log', 'build-finished']) {
      es.addEventListener(type, (e) => {
        const data = JSON.parse(e.data)
        events.push({ type, data })
        if (until(type, data)) resolve()
      })
    }
  })
  await start()
  await done
  es.close()
  return events
}

describe('BuildRunner', () => {
  it('a failing build stops in its test stage with an error line, short of 100 %', async () => {
    d = await start({ builds: { speed: 50, failureRate: 1 } })
    const runner = d.runner
    const events = await follow(
      d.url,
      async () => runner.start({ durationSeconds: 20 }),
      (type) => type === 'build-finished',
    )
    const finished = events.find((e) => e.type === 'build-finished')?.data
    expect(finished).toMatchObject({ status: 'failed' })
    expect(finished?.percent as number).toBeGreaterThan(35)
    expect(finished?.percent as number).toBeLessThan(80)
    const logs = events.filter((e) => e.type === 'log').map((e) => e.data)
    expect(logs.at(-1)).toMatchObject({
      level: 'error',
      stage: 'test',
      text: 'tests failed: 1 failing suite',
    })
    expect(logs.map((l) => l.seq)).toEqual(logs.map((_, i) => i + 1))
    expect(events.filter((e) => e.type === 'stage').map((e) => e.data.stage)).toEqual(['install', 'test'])
    expect(runner.running).toBe(0)
  })

  it('stop() reports running builds as cancelled and refuses new ones', async () => {
    const hub = createDashboardHub()
    const runner = new BuildRunner(hub, { speed: 1 })
    d = await start({ hub, runner })
    const events = await follow(
      d.url,
      async () => {
        runner.start({ name: 'long', durationSeconds: 300 })
        await new Promise((r) => setTimeout(r, 200))
        runner.stop()
      },
      (type) => type === 'build-finished',
    )
    expect(events.at(-1)?.data).toMatchObject({ status: 'cancelled' })
    expect(runner.running).toBe(0)
    expect(() => runner.start()).toThrow(BuildRunnerStoppedError)
    await hub.close()
  })

  it('a hub closed under a running build stops the runner instead of throwing from its timer', async () => {
    const hub = createDashboardHub()
    const runner = new BuildRunner(hub, { speed: 10, tickMs: 10 })
    runner.start({ durationSeconds: 300 })
    await hub.close()
    await new Promise((r) => setTimeout(r, 100))
    expect(() => runner.start()).toThrow(BuildRunnerStoppedError)
  })

  it('refuses more than maxConcurrent builds with BuildLimitError', async () => {
    const hub = createDashboardHub()
    const runner = new BuildRunner(hub, { maxConcurrent: 1 })
    runner.start({ durationSeconds: 300 })
    expect(() => runner.start()).toThrow(BuildLimitError)
    runner.stop()
    await hub.close()
  })

  it.each([
    [{ speed: 0 }, 'Invalid option speed: must be a number from 0.01 to 1000, got 0'],
    [{ maxConcurrent: Number.NaN }, 'Invalid option maxConcurrent'],
    [{ failureRate: 2 }, 'Invalid option failureRate: must be a number from 0 to 1, got 2'],
  ])('rejects bad options %o with HeraldConfigError', async (options, message) => {
    const hub = createDashboardHub()
    expect(() => new BuildRunner(hub, options)).toThrow(HeraldConfigError)
    expect(() => new BuildRunner(hub, options)).toThrow(message)
    await hub.close()
  })
})
