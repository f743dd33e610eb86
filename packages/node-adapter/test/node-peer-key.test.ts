import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodePeerKey, encodePeerKey, PEER_KEY_FILE, readPeerKey, writePeerKey } from '@kadmium/node'
import { PeerSandbox } from './fixtures/peers.ts'

const TEST_TIMEOUT = { timeout: 30_000 }

describe('nodePeer: the privateKey option (one identity on several devices)', () => {
  const sandbox = new PeerSandbox()
  after(() => sandbox.close())

  test('a key exported from one device runs a peer of the same id on another', TEST_TIMEOUT, async () => {
    const laptop = await sandbox.peer('laptop')
    const exported = laptop.exportIdentity()
    assert.deepEqual(exported, encodePeerKey(await readPeerKeyOf(sandbox, 'laptop')))
    assert.ok(peerIdFromPrivateKey(laptop.privateKey).equals(laptop.peerId))

    const phone = await sandbox.peer('phone', { privateKey: decodePeerKey(exported) })
    assert.ok(phone.peerId.equals(laptop.peerId))
    // The imported key is now the phone's stored identity: it survives the phone's restart.
    const stored = await readPeerKeyOf(sandbox, 'phone')
    assert.deepEqual(encodePeerKey(stored), exported)
  })

  test('an explicit key in a fresh directory: that identity, stored', TEST_TIMEOUT, async () => {
    const key = await generateKeyPair('Ed25519')
    const peer = await sandbox.peer('explicit', { privateKey: key })
    assert.ok(peer.peerId.equals(peerIdFromPrivateKey(key)))
    await peer.close()
    const again = await sandbox.peer('explicit') // no key given: the stored one
    assert.ok(again.peerId.equals(peerIdFromPrivateKey(key)))
    const same = await sandbox.peer('explicit-same', { privateKey: key })
    await same.close()
    await sandbox.peer('explicit-same', { privateKey: key }) // the stored key, given again: accepted
  })

  test('a key other than the stored one is refused with PeerKeyError', TEST_TIMEOUT, async () => {
    const peer = await sandbox.peer('other')
    await peer.close()
    await assert.rejects(sandbox.peer('other', { privateKey: await generateKeyPair('Ed25519') }), { name: 'PeerKeyError' })
  })

  test('a key file that holds no key is refused with PeerKeyError', TEST_TIMEOUT, async () => {
    const dataDir = await sandbox.dir('garbage')
    await mkdir(dataDir, { recursive: true })
    await writeFile(join(dataDir, PEER_KEY_FILE), 'not a key')
    await assert.rejects(sandbox.peer('garbage'), { name: 'PeerKeyError' })
    assert.throws(() => decodePeerKey(new Uint8Array([1, 2, 3])), { name: 'PeerKeyError' })
  })

  test('readPeerKey/writePeerKey round trip; no key yet reads as undefined', TEST_TIMEOUT, async () => {
    const dataDir = await sandbox.dir('helpers')
    assert.equal(await readPeerKey(dataDir), undefined)
    const key = await generateKeyPair('Ed25519')
    await writePeerKey(dataDir, key)
    const read = await readPeerKey(dataDir)
    assert.ok(read?.equals(key))
  })
})

async function readPeerKeyOf (sandbox: PeerSandbox, name: string): Promise<NonNullable<Awaited<ReturnType<typeof readPeerKey>>>> {
  const key = await readPeerKey(await sandbox.dir(name))
  assert.ok(key !== undefined, `${name} has a stored key`)
  return key
}
