// Node-only pieces (http.ServerResponse sink) live behind the `@herald/sse-core/node` subpath.
export {}
