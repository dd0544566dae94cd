import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { listen, openStream, pumpResponse, requestInfo, waitFor } from '@herald/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { serveWeb } from '../http/serve-web.js'
import { createHub } from '../hub/hub.js'
import type { Hub } from '../types.js'
import { serveNode } from './serve.js'

/** A hub whose subscribe throws after registering: a hook fails and `onError` rethrows (a strict app). */
function throwingHub(): Hub {
  return createHub({
    onSubscribe: () => {
      throw new Error('hook failed')
    },
    onError: (error) => {
      throw error
    },
  })
}

/** A node:http server that, like Koa with `ctx.respond = false`, leaves the response alone on error. */
async function serveCollectingErrors(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<unknown>,
) {
  const errors: unknown[] = []
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => errors.push(error))
  })
  return { ...(await listen(server)), errors }
}

describe('serve when subscribe throws an unexpected error', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c()
  })

  it('serveNode ends the stream it opened and rethrows', async () => {
    const hub = throwingHub()
    const server = await serveCollectingErrors((req, res) => serveNode(hub, {}, req, requestInfo(req), res))
    cleanups.push(server.close)
    const stream = await openStream(`${server.url}?topic=t`)
    expect(stream.status).toBe(200)
    await waitFor(() => stream.isEnded, 'the stream to end')
    expect(server.errors).toHaveLength(1)
    expect((server.errors[0] as Error).message).toBe('hook failed')
    expect(hub.subscriberCount()).toBe(0)
  })

  it('serveWeb releases the subscriber it registered and rethrows', async () => {
    const hub = throwingHub()
    const server = await serveCollectingErrors(async (req, res) => {
      try {
        const response = await serveWeb(hub, {}, req, requestInfo(req))
        await pumpResponse(response, res)
      } catch (error) {
        res.statusCode = 500
        res.end()
        throw error
      }
    })
    cleanups.push(server.close)
    const stream = await openStream(`${server.url}?topic=t`)
    expect(stream.status).toBe(500)
    await waitFor(() => server.errors.length === 1, 'the error')
    expect((server.errors[0] as Error).message).toBe('hook failed')
    expect(hub.subscriberCount()).toBe(0)
  })
})
