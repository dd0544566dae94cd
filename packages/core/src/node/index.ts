// @herald/sse-core/node: the Node-only entry (it imports node:http types). See the README's "Exports".
export { lastEventIdHeader, type NodeRequestHeaders } from './request.js'
export { serveNode } from './serve.js'
export { type ShutdownOptions, shutdown } from './shutdown.js'
export type { NodeResponse } from './sink.js'
