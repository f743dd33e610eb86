/**
 * Peer ids without libp2p's peer-id package: the same strings as
 * `@libp2p/peer-id` in every form it writes, and nothing else accepted.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { identity } from 'multiformats/hashes/identity'
import { keyOfPeerId, peerIdOfKey } from '../../src/access/peer-ids.ts'

test('an Ed25519 key gives the peer id libp2p gives, and every written form of it gives the key back', async () => {
  for (let i = 0; i < 20; i++) {
    const key = (await generateKeyPair('Ed25519')).publicKey
    const peerId = peerIdFromPublicKey(key)
    assert.equal(peerIdOfKey(key.raw), peerId.toString())
    const cid = peerId.toCID()
    for (const form of [peerId.toString(), cid.toString(), cid.toString(base36)]) {
      assert.deepEqual(keyOfPeerId(form), key.raw, form)
    }
  }
})

test('peer ids of other key types, other CIDs and garbage are refused', async () => {
  const secp = peerIdFromPublicKey((await generateKeyPair('secp256k1')).publicKey).toString()
  const notAPeer = CID.createV1(raw.code, identity.digest(new Uint8Array(36))).toString()
  for (const bad of [secp, notAPeer, '', '12D3KooW', 'hello world', 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N']) {
    assert.throws(() => keyOfPeerId(bad), TypeError, bad)
  }
  assert.throws(() => keyOfPeerId(42 as unknown as string), TypeError)
  assert.throws(() => peerIdOfKey(new Uint8Array(31)), TypeError)
})
