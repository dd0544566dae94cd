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
  const sentinel = `after the refused ones ${topic}`
  await ctx.publish(server, topic, { data: sentinel })
  await stream.waitFor(
    'the valid event published after the refused ones',
    () => stream.events.some((e) => e.data === sentinel),
    5000,
  )
  await sleep(50)
  const delivered = stream.events.slice(greeting)
  if (delivered.length !== 1 || delivered[0]?.data !== sentinel) {
    problems.push(
      `subscribers received ${delivered.length} event(s) (${delivered.map((e) => show(e.data, 30)).join(', ')}); ` +
        'only the valid one was expected',
    )
  }
}

/** Failure reasons stay on one line and short: whitespace runs collapse, the rest is cut at `max`. */
export function oneLine(text: string, max = 600): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max)}… (${flat.length} chars)` : flat
}

/** A response body for a failure reason: an HTML page by its title and size, anything else cut short. */
export function describeBody(body: string, max = 80): string {
  if (/^\s*(<!doctype html|<html)/i.test(body) || /<\/(body|pre|title)>/i.test(body)) {
    const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1]?.trim()
    const text = body
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
    return `an HTML page of ${body.length} chars${title ? ` titled ${show(title, 40)}` : ''}: ${show(text, max)}`
  }
  return show(body, max)
}

/**
 * Where `got` first differs from `expected`, for a mismatch reason: the offset and both strings from a
 * few characters before it.
 */
export function firstDifference(got: string, expected: string): string {
  let i = 0
  while (i < got.length && i < expected.length && got[i] === expected[i]) i++
  const from = Math.max(0, i - 8)
  return `first difference at char ${i}: got ${show(got.slice(from, i + 24), 50)}, expected ${show(expected.slice(from, i + 24), 50)}`
}
