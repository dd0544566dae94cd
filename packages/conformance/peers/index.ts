// The peers of the conformance table, in its column order.
import { betterSse } from './better-sse.js'
import { expressHandwritten } from './express-handwritten.js'
import { fastifySsePeer } from './fastify.js'
import { h3EventStream } from './h3.js'
import { honoStreamSse } from './hono.js'

export type { Peer, PeerServer } from './shared.js'
export const peers = [betterSse, honoStreamSse, h3EventStream, fastifySsePeer, expressHandwritten] as const
