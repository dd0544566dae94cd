// Test helpers shared by every package's tests: real servers, a raw SSE client, the adapter suite.
// A private workspace package: never published, imported by name (`@herald/test-utils`). The raw SSE
// client, raw request, process-trouble recorder and waitFor have one copy, in the published conformance
// package (`@herald/sse-conformance/helpers`: the sample apps' checks are built on them).
export {
  type OpenOptions,
  openStream,
  type RawResponse,
  rawRequest,
  recordProcessTrouble,
  type StreamClient,
  waitFor,
} from '@herald/sse-conformance/helpers'
export { ACCEPT_ALL, type AdapterServer, type AdapterTarget, describeAdapter } from './adapter-suite.js'
export { EXACT_CASES, messageArbitrary, normalise, ROUND_TRIP_CASES } from './encode-cases.js'
export { pumpResponse, serveFetch } from './fetch-bridge.js'
export { useHubServer } from './hub-server.js'
export {
  createSwitchableBroker,
  type SwitchableBroker,
  type SwitchableBrokerOptions,
} from './switchable-broker.js'
export { listen, startServer, type TestServer } from './test-server.js'
export { handler, requestInfo, TRANSPORTS, type Transport } from './transports.js'
