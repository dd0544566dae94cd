// Check 3: what is published arrives byte-exact through three parsers (eventsource-parser fed in 5-byte
// pieces, the WHATWG algorithm, and the `eventsource` client), and bad publishes are refused.
import { EventSource } from 'eventsource'
import { fetchVia } from '../eventsource-fetch.js'
import type { ConformanceCase, PublishInput } from '../target.js'
import {
  ACCEPT_ALL_ENCODINGS,
  assertNone,
  describeBody,
  expectOnlyValidEvent,
  firstDifference,
  show,
  sleep,
} from './util.js'

interface Sample {
  name: string
  input: PublishInput
  /** What `data` reads as on the client: line breaks become LF. */
  expect: string
}

// 52 KB (the sample apps cap publish bodies at 64 KiB): spans many reads and splits characters
const BIG_UNICODE = 'é日🎉ü\u00a0'.repeat(4000)

/** What the round trip covers. */
export const SAMPLES: readonly Sample[] = [
  { name: 'plain', input: { data: 'hello' }, expect: 'hello' },
  { name: 'LF', input: { data: 'line one\nline two' }, expect: 'line one\nline two' },
  { name: 'CRLF', input: { data: 'a\r\nb\r\nc' }, expect: 'a\nb\nc' },
  { name: 'lone CR', input: { data: 'a\rb' }, expect: 'a\nb' },
  { name: 'mixed breaks, empty lines', input: { data: 'a\r\n\rb\n\nc\n' }, expect: 'a\n\nb\n\nc\n' },
  { name: 'leading spaces', input: { data: '  two leading spaces' }, expect: '  two leading spaces' },
  { name: 'leading space on a later line', input: { data: 'x\n y' }, expect: 'x\n y' },
  { name: 'colons', input: { data: 'key: value:: more:' }, expect: 'key: value:: more:' },
  { name: 'leading colon', input: { data: ': not a comment' }, expect: ': not a comment' },
  {
    name: 'field-like text',
    input: { data: 'data: x\nid: 7\nevent: no' },
    expect: 'data: x\nid: 7\nevent: no',
  },
  { name: 'empty data', input: { data: '' }, expect: '' },
  { name: 'only a line break', input: { data: '\n' }, expect: '\n' },
  { name: 'NUL and tabs', input: { data: 'a\u0000b\tc' }, expect: 'a\u0000b\tc' },
  {
    name: 'unicode',
    input: { data: 'héllo — 日本語 — 🎉 — \u2028\u2029' },
    expect: 'héllo — 日本語 — 🎉 — \u2028\u2029',
  },
  { name: 'unicode across chunks', input: { data: BIG_UNICODE }, expect: BIG_UNICODE },
  { name: 'custom event name', input: { event: 'custom-name', data: 'c1' }, expect: 'c1' },
  { name: 'dotted event name', input: { event: 'update.v2', data: 'c2' }, expect: 'c2' },
  { name: 'event named message', input: { event: 'message', data: 'c3' }, expect: 'c3' },
]

/** Check 3: published payloads arrive byte-exact through three parsers. */
export const encodingRoundTrip: ConformanceCase = {
  id: 'encoding.round-trip',
  profile: 'sse',
  title: 'data, line breaks, spaces, colons, empty data, unicode and event names survive three parsers',
  needs: ['publish'],
  async run(ctx) {
    const server = await ctx.server()
    const topic = ctx.topic()
    const raw = await ctx.connect(server, topic, { feedBytes: 5, headers: ACCEPT_ALL_ENCODINGS })

    // The `eventsource` client: a listener per event type, since named events skip `onmessage`.
    const seen: { type: string; data: string; lastEventId: string }[] = []
    const esUrl = new URL(server.eventsUrl)
    esUrl.searchParams.append('topic', topic)
    const es = new EventSource(esUrl, { fetch: fetchVia(ctx.client, server.eventsHeaders) })
    ctx.defer(() => es.close())
    for (const type of new Set(SAMPLES.map((s) => s.input.event ?? 'message'))) {
      es.addEventListener(type, (e) => seen.push({ type, data: e.data, lastEventId: e.lastEventId }))
    }
    let esError = ''
    es.addEventListener('error', (e) => {
      esError = `EventSource error: ${(e as { message?: string }).message ?? 'connection failed'}`
    })
    await raw.waitFor(
      'the EventSource client to open',
      () => es.readyState === EventSource.OPEN || esError || undefined,
      5000,
    )
    if (esError) throw new Error(esError)

    // A server may greet a subscriber with events of its own: only what arrives after them counts.
    await sleep(50)
    const rawBefore = raw.events.length
    const specBefore = raw.specEvents.length
    const seenBefore = seen.length
    const ids: (string | undefined)[] = []
    for (const sample of SAMPLES) ids.push(await ctx.publish(server, topic, sample.input))
    const withIds = ids.every((id) => id !== undefined)
    if (!withIds) ctx.note('POST /publish answered without ids: events matched by order, ids not compared')
    const n = SAMPLES.length
    await raw.waitForEvents(rawBefore + n, 5000, `${n} events`).catch((error: Error) => {
      const coding = raw.headers['content-encoding'] ?? 'none'
      throw new Error(
        `${error.message}; ${raw.bytes} decoded bytes arrived (Content-Encoding: ${coding})` +
          (raw.bytes === 0 && coding !== 'none'
            ? ': the compressor holds the stream; send Cache-Control: no-transform or flush after every event'
            : ''),
      )
    })
    await raw
      .waitFor(`${n} events at the EventSource client`, () => seen.length >= seenBefore + n, 5000)
      .catch((error: Error) => {
        throw new Error(`${error.message} (got ${seen.length - seenBefore}${esError ? `; ${esError}` : ''})`)
      })

    const parsedOwn = raw.events.slice(rawBefore)
    const specOwn = raw.specEvents.slice(specBefore)
    const seenOwn = seen.slice(seenBefore)
    const problems: string[] = []
    const data = (reader: string, got: string | undefined, expected: string) =>
      got === expected
        ? undefined
        : got === undefined
          ? `${reader} read no event`
          : `${reader} read data that differs (${firstDifference(got, expected)})`
    SAMPLES.forEach((sample, i) => {
      const type = sample.input.event ?? 'message'
      const parsed = parsedOwn[i]
      const spec = specOwn[i]
      const client = seenOwn[i]
      const where = `${sample.name}`
      for (const problem of [
        data('eventsource-parser', parsed?.data, sample.expect),
        data('the WHATWG algorithm', spec?.data, sample.expect),
        data('EventSource', client?.data, sample.expect),
      ]) {
        if (problem) problems.push(`${where}: ${problem}`)
      }
      if ((parsed?.event ?? 'message') !== type)
        problems.push(
          `${where}: eventsource-parser read event ${show(parsed?.event)}, expected ${show(type)}`,
        )
      if (spec?.type !== type)
        problems.push(`${where}: the WHATWG algorithm read type ${show(spec?.type)}, expected ${show(type)}`)
      if (client?.type !== type)
        problems.push(`${where}: EventSource dispatched ${show(client?.type)}, expected ${show(type)}`)
      if (!withIds) return
      if (parsed?.id !== ids[i])
        problems.push(
          `${where}: eventsource-parser read id ${show(parsed?.id)}, /publish said ${show(ids[i])}`,
        )
      if (spec?.lastEventId !== ids[i])
        problems.push(
          `${where}: the WHATWG algorithm has lastEventId ${show(spec?.lastEventId)}, expected ${show(ids[i])}`,
        )
      if (client?.lastEventId !== ids[i])
        problems.push(
          `${where}: EventSource has lastEventId ${show(client?.lastEventId)}, expected ${show(ids[i])}`,
        )
    })
    assertNone(problems.slice(0, 6), problems.length > 6 ? `${problems.length} mismatches, first: ` : '')
    ctx.note(
      `${SAMPLES.length} samples, ${raw.bytes} bytes, Content-Encoding: ${raw.headers['content-encoding'] ?? 'none'}`,
    )
  },
}

/** Publish bodies the convention refuses with 400; `%T` is the subscribed topic. */
export const BAD_PUBLISHES: readonly { name: string; body: string }[] = [
  { name: 'malformed JSON', body: '{"topic": "%T", "data": ' },
  { name: 'not an object', body: '["%T", "x"]' },
  { name: 'missing topic', body: '{"data": "bad-publish"}' },
  { name: 'empty topic', body: '{"topic": "", "data": "bad-publish"}' },
  { name: 'topic not a string', body: '{"topic": 42, "data": "bad-publish"}' },
  { name: 'missing data', body: '{"topic": "%T"}' },
  { name: 'event name with a line break', body: '{"topic": "%T", "event": "a\\nb", "data": "bad-publish"}' },
]

/** Check 3, refusals: bad publishes get 400 and reach no subscriber. */
export const encodingBadPublish: ConformanceCase = {
  id: 'encoding.bad-publish',
  profile: 'herald-app',
  title: 'bad input to /publish gets 400 with a reason and nothing reaches subscribers',
  needs: ['publish'],
  async run(ctx) {
    const server = await ctx.server()
    const topic = ctx.topic()
    const stream = await ctx.connect(server, topic)
    // A server may greet a new subscriber with an event of its own; only what follows the bad publishes counts.
    await sleep(50)
    const greeting = stream.events.length
    const problems: string[] = []
    for (const bad of BAD_PUBLISHES) {
      const { status, body } = await ctx.publishRaw(server, bad.body.replaceAll('%T', topic))
      if (status !== 400) problems.push(`${bad.name}: answered ${status}, expected 400`)
      let reason: unknown
      try {
        reason = (JSON.parse(body) as { error?: unknown }).error
      } catch {
        reason = undefined
      }
      if (status === 400 && (typeof reason !== 'string' || reason === '')) {
        problems.push(`${bad.name}: the 400 body has no { "error": "<reason>" } (${describeBody(body)})`)
      }
    }
    await expectOnlyValidEvent(ctx, server, stream, topic, greeting, problems)
    assertNone(problems)
  },
}
