// The `POST /publish` convention of the sample apps, in detail: which bodies are refused, with which
// status and reason, and that a refusal never reaches a subscriber. Black-box, so the CLI runs it too.
import { decodeBody } from '../http.js'
import type { CaseContext, ConformanceCase, ServerUnderTest } from '../target.js'
import { assertNone, describeBody, expectOnlyValidEvent, show, sleep } from './util.js'

/** The largest body `/publish` accepts, in bytes (64 KiB); one byte more gets 413. */
export const PUBLISH_BODY_LIMIT = 64 * 1024

/** A refusal the convention requires: the body, the status, and what the `error` reason must mention. */
interface Refusal {
  name: string
  /** `%T` is replaced by the subscribed topic. */
  body: string
  /** Default `application/json`; null sends no Content-Type at all. */
  contentType?: string | null
  status: number
  /** The reason must match this (it names the field or rule at fault). */
  reason: RegExp
}

/** Field by field: each body gets 400 and a reason that names the field or rule. */
export const FIELD_REFUSALS: readonly Refusal[] = [
  { name: 'malformed JSON', body: '{"topic": "%T", "data": ', status: 400, reason: /JSON/i },
  { name: 'an array', body: '["%T", "x"]', status: 400, reason: /object/i },
  { name: 'a string', body: '"%T"', status: 400, reason: /object/i },
  { name: 'null', body: 'null', status: 400, reason: /object/i },
  { name: 'missing topic', body: '{"data": "x"}', status: 400, reason: /topic/i },
  { name: 'topic not a string', body: '{"topic": 42, "data": "x"}', status: 400, reason: /topic/i },
  { name: 'missing data', body: '{"topic": "%T"}', status: 400, reason: /data/i },
  { name: 'data not a string', body: '{"topic": "%T", "data": 42}', status: 400, reason: /data/i },
  { name: 'data an object', body: '{"topic": "%T", "data": {"a": 1}}', status: 400, reason: /data/i },
  {
    name: 'event not a string',
    body: '{"topic": "%T", "event": 7, "data": "x"}',
    status: 400,
    reason: /event/i,
  },
  { name: 'an id field', body: '{"topic": "%T", "data": "x", "id": "5"}', status: 400, reason: /\bid\b/i },
  {
    name: 'an unknown field',
    body: '{"topic": "%T", "data": "x", "retry": 5}',
    status: 400,
    reason: /unknown field.*retry/i,
  },
]

/**
 * Bodies that are not JSON by their Content-Type: 415, whatever the body holds. No Content-Type at all
 * is what a cross-site `fetch(url, { mode: 'no-cors', body: blob })` or `sendBeacon` sends.
 */
export const TYPE_REFUSALS: readonly Refusal[] = [
  {
    name: 'no Content-Type',
    body: '{"topic": "%T", "data": "x"}',
    contentType: null,
    status: 415,
    reason: /content-type/i,
  },
  {
    name: 'Content-Type text/plain',
    body: '{"topic": "%T", "data": "x"}',
    contentType: 'text/plain',
    status: 415,
    reason: /content-type/i,
  },
  {
    name: 'a form',
    body: 'topic=%T&data=x',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    reason: /content-type/i,
  },
]

/**
 * Sends `body` to `/publish` with `contentType` (null: none) and the target's publish headers, and
 * returns the status and the parsed `error`, if any.
 */
async function post(ctx: CaseContext, server: ServerUnderTest, body: string, contentType: string | null) {
  if (server.publishUrl === undefined) ctx.skip('needs a publish URL (--publish-url)')
  const res = await ctx.client.request(server.publishUrl, {
    method: 'POST',
    headers: {
      ...server.publishHeaders,
      ...(contentType === null ? {} : { 'content-type': contentType }),
    },
    body,
    // A connection of its own: a server may close it after refusing a body it did not read.
    dedicated: true,
  })
  const chunks: Buffer[] = []
  for await (const chunk of decodeBody(res.wire, res.headers['content-encoding']))
    chunks.push(chunk as Buffer)
  // The answer is complete: stop sending whatever of the body the server did not read (over h2c a server
  // that does not reset the stream would otherwise keep the upload, and its own close(), waiting).
  res.abort()
  const text = Buffer.concat(chunks).toString()
  let error: unknown
  try {
    error = (JSON.parse(text) as { error?: unknown }).error
  } catch {
    error = undefined
  }
  return { status: res.status, body: text, error }
}

/**
 * Subscribes to a fresh topic, sends the refusals `build` makes for it (each must get its status and a
 * reason), then publishes one valid event: the subscriber must receive that one and nothing before it.
 */
async function expectRefused(
  ctx: CaseContext,
  server: ServerUnderTest,
  build: (topic: string) => readonly Refusal[],
): Promise<void> {
  const topic = ctx.topic()
  const stream = await ctx.connect(server, topic)
  // A server may greet a new subscriber with an event of its own; only what follows the refusals counts.
  await sleep(50)
  const greeting = stream.events.length
  const published = server.hub?.metrics().published
  const problems: string[] = []
  for (const refusal of build(topic)) {
    const answer = await post(
      ctx,
      server,
      refusal.body,
      refusal.contentType === undefined ? 'application/json' : refusal.contentType,
    )
    const what = refusal.name
    if (answer.status !== refusal.status) {
      problems.push(`${what}: answered ${answer.status}, expected ${refusal.status}`)
    } else if (typeof answer.error !== 'string' || answer.error === '') {
      problems.push(
        `${what}: the ${answer.status} body has no { "error": "<reason>" } (${describeBody(answer.body)})`,
      )
    } else if (!refusal.reason.test(answer.error)) {
      problems.push(
        `${what}: the reason ${show(answer.error)} does not say what is wrong (${refusal.reason})`,
      )
    }
  }
  // With the hub at hand, a refusal that was published anyway shows even on a topic nobody watches.
  const after = server.hub?.metrics().published
  if (published !== undefined && after !== published) {
    problems.push(`the hub published ${Number(after) - published} event(s) for refused bodies`)
  }
  await expectOnlyValidEvent(ctx, server, stream, topic, greeting, problems)
  assertNone(problems)
}

/** `refusals` with `%T` replaced by the subscribed topic. */
const onTopic = (refusals: readonly Refusal[]) => (topic: string) =>
  refusals.map((r) => ({ ...r, body: r.body.replaceAll('%T', topic) }))

/** Field rules: a non-object, missing or non-string fields, an `id`, an unknown field. */
export const publishFields: ConformanceCase = {
  id: 'publish.fields',
  profile: 'herald-app',
  title: 'POST /publish refuses a non-object, bad or missing fields, an id and unknown fields with 400',
  needs: ['publish'],
  run: async (ctx) => expectRefused(ctx, await ctx.server(), onTopic(FIELD_REFUSALS)),
}

/** Content-Type rule: JSON (parameters allowed) is accepted, anything else gets 415. */
export const publishContentType: ConformanceCase = {
  id: 'publish.content-type',
  profile: 'herald-app',
  title:
    'POST /publish answers 415 to a body that is not application/json or has no Content-Type, and accepts a charset',
  needs: ['publish'],
  async run(ctx) {
    const server = await ctx.server()
    await expectRefused(ctx, server, onTopic(TYPE_REFUSALS))
    const withCharset = await post(
      ctx,
      server,
      JSON.stringify({ topic: ctx.topic(), data: 'x' }),
      'application/json; charset=utf-8',
    )
    if (withCharset.status !== 200) {
      throw new Error(
        `Content-Type "application/json; charset=utf-8" answered ${withCharset.status}, expected 200 ` +
          `(${describeBody(withCharset.body)})`,
      )
    }
  },
}

/** A body of exactly `bytes` bytes that is a valid publish to `topic`. */
function bodyOfSize(topic: string, bytes: number): string {
  const empty = JSON.stringify({ topic, data: '' })
  return JSON.stringify({ topic, data: 'x'.repeat(bytes - empty.length) })
}

/** Body limit: 64 KiB is accepted, one byte more is 413 and reaches nobody. */
export const publishBodyLimit: ConformanceCase = {
  id: 'publish.body-limit',
  profile: 'herald-app',
  title: 'POST /publish accepts a body of exactly 64 KiB and answers 413 to a larger one',
  needs: ['publish'],
  async run(ctx) {
    // At the limit, on a topic of its own (the refusals below watch theirs for strays).
    const server = await ctx.server()
    const atLimit = await post(ctx, server, bodyOfSize(ctx.topic(), PUBLISH_BODY_LIMIT), 'application/json')
    if (atLimit.status !== 200) {
      throw new Error(
        `a body of exactly ${PUBLISH_BODY_LIMIT} bytes answered ${atLimit.status}, expected 200 ` +
          `(${describeBody(atLimit.body)})`,
      )
    }
    const over = (topic: string, bytes: number): Refusal => ({
      name: `a body of ${bytes} bytes`,
      body: bodyOfSize(topic, bytes),
      status: 413,
      reason: /large|limit|size|KiB|bytes/i,
    })
    await expectRefused(ctx, server, (topic) => [
      over(topic, PUBLISH_BODY_LIMIT + 1),
      over(topic, 4 * PUBLISH_BODY_LIMIT),
    ])
  },
}
