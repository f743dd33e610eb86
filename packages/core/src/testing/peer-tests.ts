import { peerAccessCases } from './peer-access-cases.ts'
import { peerCloseCases } from './peer-close-cases.ts'
import { peerDhtCases } from './peer-dht-cases.ts'
import { makePeerCases, type PeerHarness, type PeerTestCase } from './peer-harness.ts'
import { peerNetworkCases } from './peer-network-cases.ts'
import { peerPresenceCases } from './peer-presence-cases.ts'

/**
 * The cases that check an adapter's `Peer` (what `nodePeer()` or
 * `browserPeer()` returns) with Kadmium's replication on top, through the
 * public API: two peers connect; a write reaches the other peer's `get`
 * and subscriptions live (gossipsub); a peer that connects late catches up
 * on every record; a durable write (`durability: { replicas: 1 }`)
 * resolves and a peer that never met its writer reads the record from the
 * DHT after the writer closed (kad-dht, with Kadmium's validators); a
 * restricted database refuses a stranger's writes, locally
 * (`UnauthorizedWriterError`) and on the wire, and takes a granted
 * writer's; closing databases and peers leaves no connection; and, if the
 * harness can run a fresh process ({@link PeerHarness.exitsCleanly}), that
 * a process that used peers exits by itself once it closed them.
 *
 * Every case starts its own peers (2 to 5) through `harness.create`,
 * connects them with `harness.connect` (or a plain dial), closes its
 * databases and peers, and then calls `harness.cleanup`. Conditions are
 * polled for at most `harness.waitMs`; give the cases a test timeout of a
 * minute or so.
 *
 * @example
 * ```ts
 * const harness = {
 *   create: async (name: string) => nodePeer({ dataDir: join(root, name), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, network: 'local' }),
 *   cleanup: async () => { await rm(root, { recursive: true, force: true }) }
 * }
 * for (const c of peerTests(harness)) test(c.name, { timeout: 60_000 }, c.fn)
 * ```
 */
export function peerTests (harness: PeerHarness): PeerTestCase[] {
  return makePeerCases(harness, [
    ...peerNetworkCases,
    ...peerPresenceCases,
    ...peerDhtCases,
    ...peerAccessCases,
    ...peerCloseCases
  ])
}
