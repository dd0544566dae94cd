// Runs the `sse` profile against one peer (started here, stopped after) and returns its rows.
import { type CaseResult, checkServer } from '../src/index.js'
import type { Peer } from './shared.js'

/** Events in the burst against a peer: enough to show order and completeness, short enough for CI. */
export const PEER_BURST = 500

export async function runPeer(peer: Peer): Promise<CaseResult[]> {
  const server = await peer.start()
  try {
    return await checkServer({
      eventsUrl: `${server.url}/events`,
      publishUrl: `${server.url}/publish`,
      burstEvents: PEER_BURST,
      topicPrefix: 'peer-',
    })
  } finally {
    await server.close()
  }
}
