// The sse profile through a real nginx (Debian's package) configured exactly as docs/proxies.md says, with
// gzip on and default buffering, in front of the Express sample app: every check must pass.
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, freePort, repoRoot, row, startFile, waitForPort } from './fixtures/processes.js'

const NGINX = process.env.HERALD_NGINX ?? '/usr/sbin/nginx'
const required = process.env.HERALD_REQUIRE_NGINX === '1'
const present = existsSync(NGINX)
if (!present && !required) {
  console.warn(
    `nginx not found at ${NGINX} (apt-get install nginx, or set HERALD_NGINX): the nginx test is skipped`,
  )
}

/** The `nginx` block of docs/proxies.md, pointed at `appPort` and listening on `port`. */
function configFromDocs(appPort: number, port: number, dir: string): string {
  const doc = readFileSync(path.join(repoRoot, 'docs', 'proxies.md'), 'utf8')
  const block = /^```nginx\n([\s\S]*?)^```/m.exec(doc)?.[1]
  if (!block) throw new Error('docs/proxies.md has no ```nginx block')
  const placed = block
    .replace(/server 127\.0\.0\.1:\d+;/, `server 127.0.0.1:${appPort};`)
    .replace(/listen \d+;/, `listen 127.0.0.1:${port};`)
  if (!placed.includes(`127.0.0.1:${appPort}`) || !placed.includes(`listen 127.0.0.1:${port}`)) {
    throw new Error(
      'the nginx block of docs/proxies.md lost its "server 127.0.0.1:<port>;" or "listen <port>;"',
    )
  }
  const temp = (name: string) => `${name}_temp_path ${path.join(dir, name)};`
  // Only what a standalone nginx needs around the documented block: its own files, in the foreground.
  return `daemon off;
worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
${placed}
}
`
}

describe.skipIf(!present && !required)('through nginx as docs/proxies.md configures it', () => {
  it('the Express sample app passes the sse profile', async () => {
    if (!present) throw new Error(`nginx not found at ${NGINX}; HERALD_REQUIRE_NGINX=1`)
    const token = 'nginx-publish-token'
    const app = await startFile('src/main.ts', {
      cwd: path.join(repoRoot, 'apps', 'express-app'),
      env: { PUBLISH_TOKEN: token, EVENTS_TOKEN: 'nginx-events-token' },
    })
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-nginx-'))
    // Workers run as an unprivileged user when the master is root: they must reach the temp paths.
    chmodSync(dir, 0o777)
    const port = await freePort()
    writeFileSync(path.join(dir, 'nginx.conf'), configFromDocs(app.port, port, dir))
    const nginx = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    nginx.stderr.on('data', (chunk) => {
      out += chunk
    })
    const log = () =>
      `${out}${existsSync(path.join(dir, 'error.log')) ? readFileSync(path.join(dir, 'error.log'), 'utf8') : ''}`
    try {
      await waitForPort(port, nginx, log)
      const base = `http://127.0.0.1:${port}`
      const { code, stdout } = await cli([
        `${base}/events`,
        '--publish-url',
        `${base}/publish`,
        '--publish-header',
        `authorization: Bearer ${token}`,
        '--behind-proxy',
        '--burst',
        '1000',
      ])
      expect(stdout, `${stdout}\n${log()}`).toMatch(/\n\d+ passed, 0 failed, \d+ skipped\n$/)
      for (const check of [
        'headers.immediate',
        'headers.compressed',
        'compression.per-event',
        'encoding.round-trip',
        'backpressure.burst',
        'replay.header',
      ]) {
        expect(row(stdout, 'PASS', check), `${check} in\n${stdout}`).toBe(true)
      }
      // nginx consumed X-Accel-Buffering and gzipped the stream, and the events still came one by one.
      expect(stdout).toMatch(/X-Accel-Buffering is null: behind a proxy/)
      expect(stdout).toMatch(/Content-Encoding: gzip; publish → decoded event/)
      expect(code).toBe(0)
    } finally {
      nginx.kill('SIGTERM')
      await new Promise((resolve) => (nginx.exitCode === null ? nginx.once('exit', resolve) : resolve(null)))
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 90_000)
})
