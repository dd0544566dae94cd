// Listens and prints the URL. Ctrl-C (or SIGTERM) ends every stream with a retry hint, so browsers come
// back when the server does, then exits.
import { start } from './app.js'

const app = await start({ port: Number(process.env.PORT ?? 3000) })
console.log(`Herald Express sample: ${app.url}`)

const shutdown = () => {
  app.close({ retryMs: 1000 }).then(
    () => process.exit(0),
    (err) => {
      console.error(err)
      process.exit(1)
    },
  )
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
