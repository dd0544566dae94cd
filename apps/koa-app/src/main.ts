// Listens and prints the URL. Ctrl-C (or SIGTERM) ends every stream with a retry hint, so browsers come
// back when the server does, then exits.
import { start } from './server.js'

const app = await start({ port: Number(process.env.PORT ?? 3000) })
console.log(`Herald Koa sample: ${app.url}`)
console.log(`  watch:   curl -N '${app.url}/events?topic=demo'`)

let stoppingSince = 0
const shutdown = () => {
  if (stoppingSince) {
    // One Ctrl-C can arrive twice (from the terminal and relayed by npm); a later one means "stop now".
    if (Date.now() - stoppingSince > 1000) process.exit(130)
    return
  }
  stoppingSince = Date.now()
  app.close({ retryMs: 1000 }).then(
    () => process.exit(0),
    (error) => {
      console.error(error)
      process.exit(1)
    },
  )
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
