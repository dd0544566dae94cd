export { serveNode } from './serve.js'
export { createNodeSink, type NodeResponse, writeStreamHead } from './sink.js'
