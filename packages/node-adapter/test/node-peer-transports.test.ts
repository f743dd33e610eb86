import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, test } from 'node:test'
import { PeerSandbox, waitFor } from './fixtures/peers.ts'

const TEST_TIMEOUT = { timeout: 30_000 }

describe('nodePeer: transports', () => {
  const sandbox = new PeerSandbox()
  after(() => sandbox.close())

  test('memory: two peers on /memory addresses connect', TEST_TIMEOUT, async () => {
    const a = await sandbox.peer('memory-a', { listen: [`/memory/kadmium-${randomUUID()}`] })
    const b = await sandbox.peer('memory-b', { listen: [`/memory/kadmium-${randomUUID()}`] })
    const address = a.multiaddrs.find((m) => m.toString().startsWith('/memory/'))
    assert.ok(address !== undefined, 'A listens on its memory address')
    const connection = await b.dial(address)
    assert.ok(connection.remotePeer.equals(a.peerId))
    assert.match(connection.remoteAddr.toString(), /^\/memory\//)
    await waitFor('A to see the connection', () => a.libp2p.getConnections(b.peerId).length > 0)
  })

  test('memory: a peer that only dials memory addresses bootstraps from one', TEST_TIMEOUT, async () => {
    const a = await sandbox.peer('memory-boot-a', { listen: [`/memory/kadmium-${randomUUID()}`] })
    const address = a.multiaddrs[0]
    assert.ok(address !== undefined)
    const b = await sandbox.peer('memory-boot-b', { listen: [], bootstrap: [address.toString()] })
    await waitFor('B to connect to A', () => b.libp2p.getConnections(a.peerId).length > 0)
  })

  test('WebSockets: a peer dials the other\'s /ws address on 127.0.0.1', TEST_TIMEOUT, async () => {
    const a = await sandbox.peer('ws-a', { listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    const b = await sandbox.peer('ws-b')
    const address = a.multiaddrs.find((m) => m.toString().includes('/ws/'))
    assert.ok(address !== undefined, 'A listens on a WebSockets address')
    assert.match(address.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//)
    const connection = await b.dial(address.toString())
    assert.ok(connection.remotePeer.equals(a.peerId))
    assert.match(connection.remoteAddr.toString(), /\/ws\//)
  })

  test('TCP and WebSockets side by side, as by default', TEST_TIMEOUT, async () => {
    const a = await sandbox.peer('both', { listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] })
    const texts = a.multiaddrs.map(String)
    assert.ok(texts.some((t) => /\/tcp\/\d+\/p2p\//.test(t)), 'a TCP address')
    assert.ok(texts.some((t) => /\/tcp\/\d+\/ws\/p2p\//.test(t)), 'a WebSockets address')
  })
})
