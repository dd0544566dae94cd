// The client package's own browser build: the file it ships as `@herald/sse-client/browser`, its size
// test measures and its Chromium tests load is the one this page gets.
import { bundleBrowser } from '../../../packages/client/scripts/browser-bundle.js'

let bundled: Promise<string> | undefined

/**
 * `@herald/sse-client` as one ES module for the page (`/sse-client.js`), bundled from the package's source
 * when the server starts. `npm start` runs this app from source on a fresh clone, with nothing built yet,
 * so there is no `dist/browser.js` to serve; bundling here takes a few tens of milliseconds once per
 * process and always serves the client as it is in the tree.
 */
export function clientScript(): Promise<string> {
  bundled ??= bundleBrowser().then((bundle) => bundle.code)
  return bundled
}
