// @herald/sse-core/node: the Node-only entry (it imports node:http types). See the README's "Exports".
export { serveNode } from './serve.js'
export type { NodeResponse } from './sink.js'
