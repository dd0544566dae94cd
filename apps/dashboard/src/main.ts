// Starts the dashboard and prints its URL. Ctrl-C shuts it down gracefully: builds are cancelled, every
// open stream gets a `retry:` hint (so browsers come back when the server does) and the process exits 0.
import { start } from './app.js'

function envNumber(name: string, fallback: number, valid: (n: number) => boolean, rule: string): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!valid(n)) {
    console.error(`${name} must be ${rule}, got ${JSON.stringify(raw)}`)
    process.exit(1)
  }
  return n
}

const port = envNumber(
  'PORT',
  3000,
  (n) => Number.isInteger(n) && n >= 0 && n <= 65535,
  'a port number (0-65535)',
)
const speed = envNumber('BUILD_SPEED', 1, (n) => n >= 0.01 && n <= 1000, 'a number from 0.01 to 1000')

const hostname = process.env.HOST || 'localhost'

const dashboard = await start({ port, hostname, builds: { speed } }).catch((err: NodeJS.ErrnoException) => {
  console.error(err.code === 'EADDRINUSE' ? `Port ${port} is in use; try PORT=${port + 1} npm start` : err)
  process.exit(1)
})
console.log(`Herald dashboard: ${dashboard.url}`)

let stoppingSince = 0
const shutdown = () => {
  if (stoppingSince) {
    // One Ctrl-C can arrive twice (from the terminal and relayed by a parent); a later one means "stop waiting".
    if (Date.now() - stoppingSince > 1000) process.exit(130)
    return
  }
  stoppingSince = Date.now()
  console.log('Shutting down: streams end with a retry hint.')
  dashboard.close().then(
    () => process.exit(0),
    (err) => {
      console.error(err)
      process.exit(1)
    },
  )
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
