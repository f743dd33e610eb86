/**
 * Bootstrap and listen addresses: a malformed one is refused by name at
 * `nodePeer()`, before anything opens; an unreachable bootstrap peer is
 * reported (a `bootstrap` event and `peer.status`), a reachable one shows
 * as connected.
 */
import assert from 'node:assert/strict'
import { stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { after, describe, test } from 'node:test'
import { nodePeer, type BootstrapStatus } from '@kadmium/node'
import { PeerSandbox, waitFor } from './fixtures/peers.ts'

const TEST_TIMEOUT = { timeout: 60_000 }

describe('nodePeer: bootstrap peers', () => {
  const sandbox = new PeerSandbox()
  after(() => sandbox.close())

  test('malformed addresses reject with AddressError naming the address, before touching the disk', TEST_TIMEOUT, async () => {
    const dataDir = await sandbox.dir('never-made')
    const cases: Array<{ readonly bootstrap?: string[], readonly listen?: string[], readonly announce?: string[], readonly address: string, readonly says: RegExp }> = [
      { bootstrap: ['not a multiaddr'], address: 'not a multiaddr', says: /is not a multiaddr/ },
      { bootstrap: ['/ip4/127.0.0.1/tcp/4001'], address: '/ip4/127.0.0.1/tcp/4001', says: /names no peer/ },
      { bootstrap: ['/ip4/127.0.0.1/tcp/4001/p2p/QmNotAPeer'], address: '/ip4/127.0.0.1/tcp/4001/p2p/QmNotAPeer', says: /is not a multiaddr|not one/ },
      { listen: ['/ip4/999.1.1.1/tcp/0'], address: '/ip4/999.1.1.1/tcp/0', says: /is not a multiaddr/ },
      { announce: ['/dns4/'], address: '/dns4/', says: /is not a multiaddr/ }
    ]
    for (const { address, says, ...options } of cases) {
      await assert.rejects(nodePeer({ dataDir, ...options }), (error: Error & { address?: string }) => {
        assert.equal(error.name, 'AddressError', `${address}: ${error.name}: ${error.message}`)
        assert.ok(error instanceof Error && error.message.includes(address), error.message)
        assert.match(error.message, says)
        assert.equal(error.address, address)
        return true
      })
    }
    await assert.rejects(stat(dataDir), { code: 'ENOENT' })
  })

  test('an unreachable bootstrap peer is reported by an event and in status; a reachable one shows as connected', TEST_TIMEOUT, async () => {
    const gone = await sandbox.peer('gone')
    const unreachable = gone.multiaddrs[0]?.toString() ?? ''
    await gone.close()
    const live = await sandbox.peer('live')
    const reachable = live.multiaddrs[0]?.toString() ?? ''
    const peer = await sandbox.peer('joiner', { bootstrap: [unreachable, reachable] })
    const events: BootstrapStatus[] = []
    peer.on('bootstrap', (event) => { events.push(event) })
    assert.deepEqual(peer.status.bootstrap.map((b) => b.address), [unreachable, reachable])
    await waitFor('both bootstrap peers settled', () => peer.status.bootstrap.every((b) => b.state !== 'dialing'), 30_000)
    const [first, second] = peer.status.bootstrap
    assert.equal(first?.state, 'unreachable')
    assert.ok(first?.error instanceof Error, 'why it failed')
    assert.equal(second?.state, 'connected')
    assert.equal(peer.status.connections, 1)
    const reported = events.find((e) => e.address === unreachable)
    assert.equal(reported?.state, 'unreachable', 'an event said so')
  })

  test('a bootstrap peer that restarts is dialed again: the peer reports it lost, then connected once more', { timeout: 150_000 }, async () => {
    const port = await freePort()
    const listen = [`/ip4/127.0.0.1/tcp/${port}`]
    const boot = await sandbox.peer('boot-restarts', { listen })
    const address = `${listen[0] ?? ''}/p2p/${boot.libp2p.peerId.toString()}`
    const peer = await sandbox.peer('keeps-it', { bootstrap: [address] })
    const states: string[] = []
    peer.on('bootstrap', (status) => states.push(status.state))
    await waitFor('connected to the bootstrap peer', () => peer.status.bootstrap[0]?.state === 'connected', 30_000)
    // The server restarts: its connections close, and for a while nothing listens there.
    await boot.close()
    await waitFor('the peer to see the bootstrap peer gone', () => peer.status.bootstrap[0]?.state !== 'connected', 30_000)
    const again = await sandbox.peer('boot-restarts', { listen })
    assert.equal(again.libp2p.peerId.toString(), boot.libp2p.peerId.toString(), 'the same identity, from its data directory')
    // Redialed: by the bootstrap dialer a second after the close or at its next 30 s retry, or by libp2p's
    // reconnect queue (kad-dht keeps its closest peers alive), whichever comes first.
    await waitFor('the peer to connect to it again', () => peer.libp2p.getConnections(again.libp2p.peerId).length > 0, 100_000)
    await waitFor('its status: connected', () => peer.status.bootstrap[0]?.state === 'connected', 10_000)
    assert.ok(states.includes('dialing') || states.includes('unreachable'), `the loss was reported (${states.join(', ')})`)
  })
})

/** A TCP port on loopback that nothing listens on now. */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}
