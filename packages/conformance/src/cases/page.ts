// The demo page of the sample-app convention: `GET /` is an HTML page that opens an EventSource. The
// browser checks drive it in Chromium; this one reads it over plain HTTP, so it runs without a browser.
import type { ConformanceCase } from '../target.js'
import { ACCEPT_ALL_ENCODINGS, assertNone, show } from './util.js'

/** `GET /` answers 200 with an HTML page that opens an `EventSource`. */
export const pageHtml: ConformanceCase = {
  id: 'page.html',
  profile: 'herald-app',
  title: 'GET / serves an HTML page that opens an EventSource',
  needs: [],
  async run(ctx) {
    const server = await ctx.server()
    const res = await ctx.client.text(server.pageUrl, { headers: ACCEPT_ALL_ENCODINGS })
    const type = res.headers['content-type']
    const coding = res.headers['content-encoding'] ?? 'none'
    const problems: string[] = []
    if (res.status !== 200)
      problems.push(`GET ${server.pageUrl.pathname} answered ${res.status}, expected 200`)
    if (!type || !/^text\/html\s*(;|$)/i.test(type)) {
      problems.push(`Content-Type is ${show(type ?? null)}, expected text/html`)
    }
    if (!/new\s+EventSource\s*\(/.test(res.body)) {
      problems.push(`the page does not open an EventSource (${res.body.length} chars: ${show(res.body, 80)})`)
    }
    // The sample apps put compression in front of everything; the page, unlike the stream, is compressed.
    if (server.compression && coding === 'none') {
      problems.push(
        'the page came back uncompressed to Accept-Encoding: gzip, deflate, br, zstd, though the target ' +
          'says compression middleware is in front (so the streaming checks did not go through it; ' +
          `compressors skip bodies under about 1 KiB, and this one has ${res.body.length} chars)`,
      )
    }
    assertNone(problems)
    ctx.note(`${res.body.length} chars, Content-Encoding: ${coding}`)
  },
}
