import { request } from 'node:http'
import { createParser, type EventSourceMessage } from 'eventsource-parser'

export interface TestStream {
  status: number
  headers: Record<string, string | string[] | undefined>
  events: EventSourceMessage[]
  comments: string[]
  retries: number[]
  /** Raw text received so far. */
  text: string
  /** How many chunks the socket delivered (for write-coalescing checks). */
  chunks: number
  /** Resolves when the server ended the response (or the socket closed). */
  ended: Promise<void>
  isEnded: boolean
  waitFor(predicate: () => boolean, what?: string, timeoutMs?: number): Promise<void>
  waitForEvents(n: number, timeoutMs?: number): Promise<EventSourceMessage[]>
  /** Starts reading (for a stream opened with `paused`). */
  resume(): void
  close(): void
}

export interface OpenOptions {
  /** Do not read the body until `resume()`: the socket fills up like a stuck client's. */
  paused?: boolean
  /** Keep only the last 64 KiB of `text` (long runs). */
  trimText?: boolean
}

/** Opens a real HTTP GET and parses the event stream with an independent parser. */
export function openStream(
  url: string,
  headers: Record<string, string> = {},
  openOptions: OpenOptions = {},
): Promise<TestStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let endedResolve!: () => void
      const ended = new Promise<void>((r) => {
        endedResolve = r
      })
      const stream: TestStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        comments: [],
        retries: [],
        text: '',
        chunks: 0,
        ended,
        isEnded: false,
        waitFor: (predicate, what = 'condition', timeoutMs = 10_000) =>
          new Promise<void>((ok, fail) => {
            if (predicate()) return ok()
            const started = Date.now()
            const timer = setInterval(() => {
              if (predicate()) {
                clearInterval(timer)
                ok()
              } else if (Date.now() - started > timeoutMs) {
                clearInterval(timer)
                fail(
                  new Error(
                    `timed out waiting for ${what}; received: ${JSON.stringify(stream.text.slice(-500))}`,
                  ),
                )
              }
            }, 5)
          }),
        async waitForEvents(n, timeoutMs) {
          await stream.waitFor(() => stream.events.length >= n, `${n} events`, timeoutMs)
          return stream.events
        },
        resume: () => {
          if (reading) return
          reading = true
          res.on('data', onData)
          res.resume()
        },
        close: () => {
          req.destroy()
        },
      }
      let reading = false
      const parser = createParser({
        onEvent: (e) => stream.events.push(e),
        onComment: (c) => stream.comments.push(c),
        onRetry: (r) => stream.retries.push(r),
      })
      res.setEncoding('utf8')
      const onData = (chunk: string) => {
        stream.chunks++
        stream.text += chunk
        if (openOptions.trimText && stream.text.length > 131072) stream.text = stream.text.slice(-65536)
        parser.feed(chunk)
      }
      if (openOptions.paused) res.pause()
      else stream.resume()
      const finish = () => {
        stream.isEnded = true
        endedResolve()
      }
      res.on('end', finish)
      res.on('close', finish)
      res.on('error', finish)
      resolve(stream)
    })
    req.on('error', reject)
    req.end()
  })
}

/** Waits until `predicate` holds (polling), or fails naming `what`. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now()
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
