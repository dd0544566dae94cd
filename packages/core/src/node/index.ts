export { serveNode } from './serve.js'
export { createNodeSink, type NodeResponse } from './sink.js'
