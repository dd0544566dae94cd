import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { redisAnswers } from './redis.js'

/** True when `redis-server` can be started here. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

/** A free loopback port (bound with port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** A throwaway redis-server on its own loopback port, without persistence: stop and start it at will. */
export class OwnRedis {
  private child: ChildProcess | undefined
  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const own = new OwnRedis(await freePort())
    await own.start()
    return own
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    )
    const deadline = Date.now() + 5000
    while (!(await redisAnswers(this.url))) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not start`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void {
    this.child?.kill('SIGSTOP')
  }

  /** Thaws a paused server (SIGCONT): it answers what it was sent meanwhile. */
  resume(): void {
    this.child?.kill('SIGCONT')
  }

  /** Stops the server at once (SIGKILL: no goodbye to clients, like a crash). */
  async stop(): Promise<void> {
    const child = this.child
    this.child = undefined
    if (!child || child.exitCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGKILL')
    await exited
  }
}
