import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { SignatureError, webSignatureEngine, type SignatureEngine } from '@kadmium/core'
import { signerOf, verifySignature } from '@kadmium/core/testing'
import { nodeSignatureEngine, sodiumEngine, installNodeSignatures } from '@kadmium/node'

assert.ok(sodiumEngine !== undefined, 'sodium-native loads on this platform (linux-x64 has a prebuild)')
const ENGINES: Array<[string, SignatureEngine]> = [['libsodium', sodiumEngine], ['node:crypto', nodeSignatureEngine], ['WebCrypto', webSignatureEngine]]

describe('signature engines', () => {
  it('each engine verifies what the others and libp2p sign, and refuses tampered data or signatures', async () => {
    const key = await generateKeyPair('Ed25519')
    const data = new TextEncoder().encode('kadmium signed bytes')
    const signatures = [await key.sign(data), ...await Promise.all(ENGINES.map(async ([, e]) => e.signer(key)(data)))]
    for (const signature of signatures) assert.equal(await key.publicKey.verify(data, signature), true, 'libp2p accepts every engine\'s signature')
    for (const [name, engine] of ENGINES) {
      for (const signature of signatures) {
        assert.equal(await engine.verify(key.publicKey.raw, signature, data), true, `${name} verifies`)
        const flipped = Uint8Array.from(signature)
        flipped[7] = (flipped[7] as number) ^ 1
        assert.equal(await engine.verify(key.publicKey.raw, flipped, data), false, `${name} refuses a changed signature`)
        const other = Uint8Array.from(data)
        other[0] = (other[0] as number) ^ 1
        assert.equal(await engine.verify(key.publicKey.raw, signature, other), false, `${name} refuses changed data`)
      }
      const stranger = await generateKeyPair('Ed25519')
      assert.equal(await engine.verify(stranger.publicKey.raw, signatures[0] as Uint8Array, data), false, `${name} refuses another key`)
    }
  })

  it('each engine refuses signatures of the wrong length', async () => {
    const key = await generateKeyPair('Ed25519')
    const data = new Uint8Array([9, 9])
    const signature = await key.sign(data)
    for (const [name, engine] of ENGINES) {
      assert.equal(await engine.verify(key.publicKey.raw, signature.subarray(0, 63), data), false, `${name}: a short signature`)
      assert.equal(await engine.verify(key.publicKey.raw, new Uint8Array([...signature, 0]), data), false, `${name}: a long signature`)
    }
  })

  it('the installed engine (libsodium, by importing @kadmium/node) backs signers and verifySignature', async () => {
    assert.equal(installNodeSignatures(), sodiumEngine)
    const key = await generateKeyPair('Ed25519')
    const signer = signerOf(key)
    const data = new Uint8Array([1, 2, 3])
    const signature = await signer.sign(data)
    assert.deepEqual(signature, new Uint8Array(await nodeSignatureEngine.signer(key)(data)), 'Ed25519 signatures are deterministic: libsodium and OpenSSL sign the same bytes')
    await verifySignature(signer.publicKey, data, signature)
    await assert.rejects(verifySignature(signer.publicKey, new Uint8Array([1, 2, 4]), signature), SignatureError)
    await assert.rejects(verifySignature(new Uint8Array(32).fill(0xff), data, signature), SignatureError, 'a key that is no curve point')
    await assert.rejects(verifySignature(new Uint8Array(31), data, signature), SignatureError, 'a short key')
  })
})
