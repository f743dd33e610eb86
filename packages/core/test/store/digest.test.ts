/**
 * A record's stored digest: its state vector and hash, and the keys of its
 * update log, written on every write of the record, so kept compact.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encode } from 'cborg'
import * as Y from 'yjs'
import { decodeDigest, docDigest, encodeDigest } from '../../src/store/digest.ts'
import { CollectionKeys, SequenceKeys } from '../../src/storage/layout.ts'

const keys = new CollectionKeys('todos')
const prefix = keys.updates('01JABCDEFGHJKMNPQRSTVWXYZ0')

test('log keys of several sessions, with keys of other shapes between them, read back as written', () => {
  const doc = new Y.Doc()
  doc.getMap('fields').set('title', 'milk')
  const digest = docDigest(doc)
  const one = new SequenceKeys()
  const two = new SequenceKeys()
  const log = [
    ...Array.from({ length: 40 }, () => prefix + one.next()),
    prefix + 'lx2k9a0b1c2d3.7z', // an unpadded counter, as logs were once written
    ...Array.from({ length: 20 }, () => prefix + two.next()),
    prefix + one.next(),
    'c/todos/d/other/u/lx2k9a0b1c2d3.00000001' // a key outside the prefix stays whole
  ]
  const bytes = encodeDigest(digest, log, prefix)
  const back = decodeDigest(bytes, prefix)
  assert.deepEqual(back?.log, log)
  assert.deepEqual(back?.sv, digest.sv)
  assert.deepEqual(back?.hash, digest.hash)
  const asStrings = encode([digest.sv, digest.hash, log]).length
  assert.ok(bytes.length * 4 < asStrings, `compact: ${bytes.length} bytes, ${asStrings} as whole keys`)
})

test('digests stored with whole keys still decode; malformed logs do not', () => {
  const sv = new Uint8Array([1, 2])
  const hash = new Uint8Array(8)
  const whole = [prefix + 'lx2k9a0b1c2d3.00000001', prefix + 'lx2k9a0b1c2d3.00000002']
  assert.deepEqual(decodeDigest(encode([sv, hash, whole]), prefix)?.log, whole)
  assert.deepEqual(decodeDigest(encodeDigest({ sv, hash }, [], prefix), prefix)?.log, [])
  for (const log of [[['s.', -1]], [['s.', 1.5]], [['s.']], [[7, 1]], [3], 'x']) {
    assert.equal(decodeDigest(encode([sv, hash, log]), prefix), undefined, JSON.stringify(log))
  }
})

test('a log that grows between writes, and one replaced after compaction, encode as they are', () => {
  const sv = new Uint8Array([1])
  const hash = new Uint8Array(8)
  const seq = new SequenceKeys()
  const log: string[] = []
  for (let write = 0; write < 70; write++) {
    const more = [prefix + seq.next(), ...(write % 7 === 0 ? [prefix + 'odd.key', prefix + seq.next()] : [])]
    assert.deepEqual(decodeDigest(encodeDigest({ sv, hash }, log, prefix, more), prefix)?.log, [...log, ...more], `write ${write}`)
    log.push(...more)
  }
  const compacted = log.slice(60)
  assert.deepEqual(decodeDigest(encodeDigest({ sv, hash }, compacted, prefix), prefix)?.log, compacted)
  assert.deepEqual(decodeDigest(encodeDigest({ sv, hash }, log, prefix), prefix)?.log, log, 'the first log is as it was')
})
