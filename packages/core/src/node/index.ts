export { serveNode } from './serve.js'
export { type ShutdownOptions, shutdown } from './shutdown.js'
export { createNodeSink, type NodeResponse } from './sink.js'
