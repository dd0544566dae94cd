/**
 * Headers of every event stream. `no-transform` (lower case: koa-compress compares it case-sensitively)
 * keeps compression middleware off the stream; `x-accel-buffering: no` stops nginx buffering;
 * `nosniff` stops a browser from reading the stream as anything but an event stream.
 * Never Connection, Transfer-Encoding or Content-Length: HTTP/2 rejects the first two.
 */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  'x-content-type-options': 'nosniff',
})
