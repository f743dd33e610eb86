import assert from 'node:assert/strict'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { PEER_KEY_FILE, readPeerKey } from '@kadmium/node'
import { blockKey, collect, PeerSandbox, plain, randomBlock } from './fixtures/peers.ts'

const TEST_TIMEOUT = { timeout: 30_000 }
/** Multicodec of the `/p2p/<peer id>` part of a multiaddr. */
const CODE_P2P = 0x01a5

describe('nodePeer: a restart keeps what the data directory holds', () => {
  const sandbox = new PeerSandbox()
  after(() => sandbox.close())

  test('the same peer id, and DHT records put while it ran', TEST_TIMEOUT, async () => {
    const value = randomBlock()
    const key = blockKey(value)

    const first = await sandbox.peer('restart')
    const peerId = first.peerId.toString()
    // Alone on the network: the put stores the record locally and finds nobody to send it to.
    await collect(first.libp2p.services.dht.put(key, value, { signal: AbortSignal.timeout(5_000) }))
    await first.close()

    const second = await sandbox.peer('restart')
    assert.equal(second.peerId.toString(), peerId)
    const found = await collect(second.libp2p.services.dht.get(key, { signal: AbortSignal.timeout(5_000) }))
    const values = found.flatMap((e) => e.name === 'VALUE' ? [plain(e.value)] : [])
    assert.deepEqual(values, [value])
  })

  test('the key file is readable by its owner only, and holds the peer id\'s key', TEST_TIMEOUT, async () => {
    const peer = await sandbox.peer('key-file')
    const dataDir = await sandbox.dir('key-file')
    const mode = (await stat(join(dataDir, PEER_KEY_FILE))).mode & 0o777
    assert.equal(mode, 0o600)
    const key = await readPeerKey(dataDir)
    assert.ok(key !== undefined)
    assert.equal(key.type, 'Ed25519')
    assert.ok(key.publicKey.equals(peer.peerId.publicKey))
  })

  test('database storage survives a restart', TEST_TIMEOUT, async () => {
    const first = await sandbox.peer('storage')
    const storage = await first.storage('Acme Todos')
    await storage.put('k', new Uint8Array([1, 2, 3]))
    await storage.close?.()
    const other = await first.storage('acme todos') // another name: another directory
    assert.equal(await other.get('k'), undefined)
    await first.close() // closes `other`, left open

    const second = await sandbox.peer('storage')
    const again = await second.storage('Acme Todos')
    assert.deepEqual(await again.get('k'), new Uint8Array([1, 2, 3]))
    await second.close()
    await again.close?.() // a database closing its storage after the peer did: harmless
  })

  test('a data directory used by a running peer is refused with StorageError', TEST_TIMEOUT, async () => {
    await sandbox.peer('busy')
    await assert.rejects(sandbox.peer('busy'), { name: 'StorageError' })
  })

  test('a start that fails (address taken) leaves the data directory free', TEST_TIMEOUT, async () => {
    const holder = await sandbox.peer('holder')
    const taken = holder.multiaddrs[0]?.decapsulateCode(CODE_P2P).toString()
    assert.ok(taken !== undefined)
    await assert.rejects(sandbox.peer('unlucky', { listen: [taken] }))
    const peer = await sandbox.peer('unlucky')
    assert.ok(peer.multiaddrs.length > 0)
  })

  test('after close: storage() rejects with PeerClosedError, close() again is harmless', TEST_TIMEOUT, async () => {
    const peer = await sandbox.peer('closed')
    await peer.close()
    await peer.close()
    await assert.rejects(peer.storage('x'), { name: 'PeerClosedError' })
    await assert.rejects(peer.dial('/ip4/127.0.0.1/tcp/1'), { name: 'PeerClosedError' })
  })
})
