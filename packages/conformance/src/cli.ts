// herald-conformance <events-url> [--publish-url URL] [--profile P] [--h2] ...: the black-box checks against
// a running server, as a table. Exit code 0 when nothing failed, 1 when something did, 2 on bad usage.
import { parseArgs } from 'node:util'
import { checkOnly, checkServer, formatTable } from './runner.js'
import { PROFILES, type Profile } from './target.js'

const USAGE = `Usage: herald-conformance <events-url> [options]

Runs the black-box conformance checks against a running Server-Sent Events server: GET <events-url>?topic=T
(repeatable) streams, and POST <publish-url> with Content-Type: application/json and
{ "topic": string, "event"?: string, "data": string } publishes, answering 2xx (optionally { "id": string },
the event's id, which the replay checks need).

Options:
  --publish-url URL   the publish endpoint (without it, checks that publish are skipped)
  --publish-header H  a header sent with every publish, "Name: value" (repeatable), e.g. a token
  --header H          a header sent with every events request, "Name: value" (repeatable)
  --profile P         sse (default): what every SSE server must do; herald-app: also the sample apps'
                      conventions (415/413/400 refusals on /publish, the page, the reset event)
  --behind-proxy      the URL goes through a reverse proxy (nginx strips X-Accel-Buffering): its absence
                      becomes a note, and immediacy is judged by timing
  --page-url URL      a page with an EventSource on the events URL (default: / of the events URL)
  --auth-url URL      an events route that answers 401 without credentials and 403 to "Bearer invalid"
  --h2                talk HTTP/2 over cleartext (h2c, prior knowledge) instead of HTTP/1.1
  --topic T           start of every topic name the checks use (default "conformance-"); the page
                      check always publishes to "demo", the topic the sample page listens to
  --heartbeat-ms N    the server's heartbeat interval; checks comments on an idle stream (takes ~8 intervals)
  --burst N           events in the burst check (default 2000; each one is a POST)
  --only ID[,ID]      run only these checks (e.g. headers.immediate,compression.per-event)
  --json              print the results as JSON instead of a table
  -h, --help          this text

Example:
  herald-conformance http://localhost:3000/events --publish-url http://localhost:3000/publish`

function fail(message: string): never {
  process.stderr.write(`herald-conformance: ${message}\n\n${USAGE}\n`)
  process.exit(2)
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse()
  } catch (error) {
    fail((error as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  if (positionals.length !== 1)
    fail(positionals.length === 0 ? 'missing <events-url>' : 'give exactly one <events-url>')
  const url = (name: string, value: string | undefined) => {
    if (value === undefined) return undefined
    try {
      const parsedUrl = new URL(value)
      if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:') throw new Error('not http(s)')
      return parsedUrl
    } catch {
      fail(`${name} must be an absolute http:// URL, got ${JSON.stringify(value)}`)
    }
  }
  const eventsUrl = url('<events-url>', positionals[0])!
  const only = values.only?.split(',').map((s) => s.trim())
  try {
    checkOnly(only, (rule) => new Error(rule))
  } catch (error) {
    fail(`--only: ${(error as Error).message}`)
  }
  const profile = values.profile ?? 'sse'
  if (!(PROFILES as readonly string[]).includes(profile))
    fail(`--profile must be one of ${PROFILES.join(', ')}, got ${JSON.stringify(profile)}`)
  const headers = (flag: string, values: string[] | undefined) => {
    const out: Record<string, string> = {}
    for (const header of values ?? []) {
      const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(header)
      if (!match) fail(`${flag} must be "Name: value", got ${JSON.stringify(header)}`)
      out[match[1]!.toLowerCase()] = match[2]!
    }
    return out
  }
  const publishHeaders = headers('--publish-header', values['publish-header'])
  const eventsHeaders = headers('--header', values.header)
  const results = await checkServer({
    profile: profile as Profile,
    behindProxy: values['behind-proxy'],
    publishHeaders,
    eventsHeaders,
    eventsUrl,
    publishUrl: url('--publish-url', values['publish-url']),
    pageUrl: url('--page-url', values['page-url']),
    authUrl: url('--auth-url', values['auth-url']),
    h2: values.h2,
    only,
    ...(values.topic === undefined ? {} : { topicPrefix: values.topic }),
    ...(values['heartbeat-ms'] === undefined
      ? {}
      : { heartbeatMs: positiveInteger('--heartbeat-ms', values['heartbeat-ms']) }),
    ...(values.burst === undefined ? {} : { burstEvents: positiveInteger('--burst', values.burst) }),
    onResult: values.json
      ? undefined
      : (r) =>
          process.stderr.write(`${r.status === 'pass' ? '✓' : r.status === 'fail' ? '✗' : '-'} ${r.id}\n`),
  })
  process.stdout.write(values.json ? `${JSON.stringify(results, null, 2)}\n` : `\n${formatTable(results)}\n`)
  process.exitCode = results.some((r) => r.status === 'fail') ? 1 : 0
}

function positiveInteger(name: string, value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    fail(`${name} must be a positive integer, got ${value}`)
  return n
}

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      'publish-url': { type: 'string' },
      'publish-header': { type: 'string', multiple: true },
      header: { type: 'string', multiple: true },
      profile: { type: 'string' },
      'behind-proxy': { type: 'boolean', default: false },
      'page-url': { type: 'string' },
      'auth-url': { type: 'string' },
      h2: { type: 'boolean', default: false },
      only: { type: 'string' },
      burst: { type: 'string' },
      topic: { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
}

// If the event loop ever ran dry mid-check, Node would exit 0 with no table: never let that read as a pass.
let finished = false
process.on('exit', (code) => {
  if (!finished && code === 0) {
    process.stderr.write('herald-conformance: stopped before every check finished\n')
    process.exitCode = 1
  }
})

main()
  .then(() => {
    finished = true
  })
  .catch((error: unknown) => {
    process.stderr.write(
      `herald-conformance: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    process.exit(1)
  })
