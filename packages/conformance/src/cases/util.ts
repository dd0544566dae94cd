// Small helpers the checks share.
import type { SseStream } from '../sse.js'
import type { CaseContext, ServerUnderTest } from '../target.js'

/** The `Accept-Encoding` a modern browser sends, so compression middleware is tempted to compress. */
export const ACCEPT_ALL_ENCODINGS = { 'accept-encoding': 'gzip, deflate, br, zstd' }

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Throws one Error listing every problem, or nothing when there is none. */
export function assertNone(problems: readonly string[], prefix = ''): void {
  if (problems.length > 0) throw new Error(`${prefix}${problems.join('; ')}`)
}

/** A short, printable form of a string for failure messages. */
export function show(value: unknown, max = 60): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > max ? `${text.slice(0, max)}…"(${text.length} chars)` : text
}

/** Runs `measure` and, if it fails, once more: the first connection of a run pays for warm-up. */
export async function withOneRetry<T>(note: (text: string) => void, measure: () => Promise<T>): Promise<T> {
  try {
    return await measure()
  } catch (error) {
    note(`first attempt failed (${(error as Error).message}); retried once`)
    return measure()
  }
}

/** The events of `stream` whose data starts with `prefix` (the check's own events, nothing else). */
export function own(stream: SseStream, prefix: string) {
  return stream.events.filter((e) => e.data.startsWith(prefix))
}

/**
 * After a run of refused publishes: publishes one valid event and records a problem unless it is the only
 * event `stream` received past its first `greeting` events (a refusal must never reach a subscriber).
 */
export async function expectOnlyValidEvent(
  ctx: CaseContext,
  server: ServerUnderTest,
  stream: SseStream,
  topic: string,
  greeting: number,
  problems: string[],
): Promise<void> {
  const sentinel = await ctx.publish(server, topic, { data: 'after the refused ones' })
  await stream.waitFor(
    'the valid event published after the refused ones',
    () => stream.events.some((e) => e.id === sentinel),
    5000,
  )
  await sleep(50)
  const delivered = stream.events.slice(greeting)
  if (delivered.length !== 1 || delivered[0]?.id !== sentinel) {
    problems.push(
      `subscribers received ${delivered.length} event(s) (${delivered.map((e) => show(e.data, 30)).join(', ')}); ` +
        'only the valid one was expected',
    )
  }
}
