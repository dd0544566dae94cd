/**
 * @herald/sse-conformance/helpers: the small helpers the sample-app checks are built on, for tests of your
 * own against a real server: a raw SSE client (`openStream`, HTTP/1.1 or h2c), a request written byte for
 * byte (`rawRequest`), a recorder of process trouble (`recordProcessTrouble`) and a poll (`waitFor`).
 */
export { recordProcessTrouble } from './herald-app/process-trouble.js'
export { type RawResponse, rawRequest } from './herald-app/raw-request.js'
export { type OpenOptions, openStream, type StreamClient } from './herald-app/stream-client.js'
export { waitFor } from './herald-app/wait.js'
