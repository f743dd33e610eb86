import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { PING_STREAMS } from '@kadmium/core'
import type { NodePeer } from '@kadmium/node'
import { PeerSandbox } from './fixtures/peers.ts'

/** A peer's round trip to `to` on libp2p's ping service (part of Kadmium's profile). */
async function ping (from: NodePeer, to: NodePeer): Promise<number> {
  return from.libp2p.services.ping.ping(to.peerId, { signal: AbortSignal.timeout(10_000) })
}

const TEST_TIMEOUT = { timeout: 30_000 }

describe('nodePeer: pings that meet on one connection', () => {
  const sandbox = new PeerSandbox()
  after(() => sandbox.close())

  // libp2p's connection monitor and kad-dht's routing table ping on one
  // protocol; when their pings met, the monitor's failed and it aborted
  // the connection.
  test('concurrent pings both ways all succeed, and the connection stays up', TEST_TIMEOUT, async () => {
    const a = await sandbox.peer('a')
    const b = await sandbox.peer('b')
    const address = b.multiaddrs[0]
    assert.ok(address !== undefined)
    const connection = await a.libp2p.dial(address, { signal: AbortSignal.timeout(10_000) })
    const rtts = await Promise.all(Array.from({ length: PING_STREAMS }, () => [ping(a, b), ping(b, a)]).flat())
    assert.equal(rtts.length, 2 * PING_STREAMS)
    for (const rtt of rtts) assert.ok(Number.isFinite(rtt) && rtt >= 0, `round trip ${rtt}`)
    assert.equal(connection.status, 'open')
    assert.deepEqual(a.libp2p.getConnections(b.peerId).map((c) => c.id), [connection.id], 'no other connection replaced it')
  })
})
