/**
 * Update-log keys read back in the order they were written: Yjs applies
 * in-order updates at once, but re-merges its pending queue on every
 * out-of-order one (10,000 index updates in string order took 8 s to load).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compareLogKeys, SequenceKeys } from '../../src/storage/layout.ts'

test('keys of one session sort in the order they were made, as plain strings and by compareLogKeys', () => {
  const seq = new SequenceKeys()
  const keys = Array.from({ length: 50_000 }, () => seq.next())
  assert.deepEqual([...keys].sort(), keys)
  assert.deepEqual([...keys].reverse().sort(compareLogKeys), keys)
})

test('logs written before the counter was padded load in write order too', () => {
  const old = Array.from({ length: 2000 }, (_, i) => `c/todos/i/u/lx2k9a0b1c2d3.${i.toString(36)}`)
  const shuffled = [...old].sort()
  assert.notDeepEqual(shuffled, old, 'string order is not write order for unpadded counters')
  assert.deepEqual(shuffled.sort(compareLogKeys), old)
})

test('sessions sort by when they began', () => {
  const a = 'c/x/i/u/lx2k9a0b1c2d3.00000002'
  const b = 'c/x/i/u/lx2k9b0b1c2d3.00000001'
  assert.ok(compareLogKeys(a, b) < 0)
  assert.equal(compareLogKeys(a, a), 0)
})
