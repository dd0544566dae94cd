import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'

const appDir = fileURLToPath(new URL('..', import.meta.url))
const tsx = createRequire(import.meta.url).resolve('tsx/cli')
let child: ChildProcess | undefined

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

it('Ctrl-C: open streams get a shutdown event and a retry hint, then the process exits 0 with no error output', async () => {
  // What `npm start` runs, with a free port.
  child = spawn(process.execPath, [tsx, '--conditions=@herald/source', 'src/main.ts'], {
    cwd: appDir,
    env: { ...process.env, PORT: '0', BUILD_SPEED: '2', NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (b) => {
    stdout += b
  })
  child.stderr?.on('data', (b) => {
    stderr += b
  })
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child?.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /Herald dashboard: (http:\/\/localhost:\d+)\n/.exec(stdout)
      if (m) resolve(m[1] as string)
    }
    child?.stdout?.on('data', check)
    exited.then(({ code }) => reject(new Error(`exited early with ${code}: ${stderr}`)))
  })

  // Two open streams and a build in progress.
  const streams = await Promise.all([fetch(`${url}/events`), fetch(`${url}/events`)])
  const bodies = streams.map(async (res) => {
    const decoder = new TextDecoder()
    let text = ''
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk)
    return text
  })
  const created = await fetch(`${url}/builds`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"durationSeconds":60}',
  })
  expect(created.status).toBe(201)
  await new Promise((r) => setTimeout(r, 500))

  child.kill('SIGINT')
  const texts = await Promise.all(bodies)
  const { code, signal } = await exited

  expect({ code, signal }).toEqual({ code: 0, signal: null })
  expect(stderr).toBe('')
  expect(stdout).toContain('Shutting down')
  for (const text of texts) {
    expect(text).toContain('event: log')
    // The running build is reported cancelled, then the stream ends with the shutdown event and the hint.
    expect(text).toMatch(/id: \S+\nevent: build-finished\ndata: \{[^\n]*"status":"cancelled"/)
    expect(text.endsWith('event: shutdown\ndata: {"retryMs":1000}\n\nretry: 1000\n\n')).toBe(true)
  }
})
