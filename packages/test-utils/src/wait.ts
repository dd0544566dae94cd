// The same helper the published conformance suite uses for the sample apps' checks (one copy, there).
export * from '@herald/sse-conformance/herald-app/wait'
