// Listens and prints the URL. Ctrl-C (or SIGTERM) ends every stream with a retry hint, so browsers come
// back when the server does, then exits.
import { start } from './app.js'

const app = await start({ port: Number(process.env.PORT ?? 3000) })
console.log(`Herald Express sample: ${app.url}`)

let stoppingSince = 0
const shutdown = () => {
  if (stoppingSince) {
    // One Ctrl-C can arrive twice (from the terminal and relayed by `pnpm start`); a later one means "stop now".
    if (Date.now() - stoppingSince > 1000) process.exit(130)
    return
  }
  stoppingSince = Date.now()
  app.close({ retryMs: 1000 }).then(
    () => process.exit(0),
    (err) => {
      console.error(err)
      process.exit(1)
    },
  )
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
