import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { nodeSha256 } from '@kadmium/node'
import { coreSha256 as sha256 } from '@kadmium/core/testing'

describe('SHA-256 on node:crypto', () => {
  it('equals @noble/hashes on empty, small, block-edge and large inputs, and is what Kadmium hashes with', () => {
    let seed = 1
    const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff)
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 4096, 3 * 1024 * 1024 + 7]) {
      const input = bytes(n)
      const expected = nobleSha256(input)
      assert.deepEqual(nodeSha256(input), expected, `${n} bytes`)
      assert.deepEqual(sha256(input), expected, `${n} bytes, through Kadmium`)
      // A view into a larger buffer hashes only its own bytes.
      const padded = new Uint8Array(n + 16)
      padded.set(input, 8)
      assert.deepEqual(nodeSha256(padded.subarray(8, 8 + n)), expected, `${n} bytes, a view`)
    }
    assert.equal(nodeSha256(new Uint8Array(3)).constructor, Uint8Array)
  })
})
