import { start } from './app.js'

const app = await start({ port: Number(process.env.PORT ?? 3000) })
console.log(`Herald + Hono demo on ${app.url}`)

// Ctrl-C or a stop signal: every client gets a retry hint and its stream ends, then the server stops.
const stop = () => {
  app.close({ retryMs: 1000 }).then(
    () => process.exit(0),
    (error) => {
      console.error(error)
      process.exit(1)
    },
  )
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
