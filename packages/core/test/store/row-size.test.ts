/**
 * The record size limit: a write checks a cheap upper bound of its row's
 * size and encodes the row only near the limit, so the bound must never be
 * below the real size, and the limit must hold to the byte.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { z } from 'zod'
import { createDatabase, memoryStorage } from '@kadmium/core'
import { encodeFields, rowSizeBound } from '../../src/query/row.ts'
import type { StoredObject, StoredValue } from '../../src/model/values.ts'
import { prng, seedFromEnv } from '../helpers/random.ts'

const seed = seedFromEnv()

function randomValue (next: () => number, depth: number): StoredValue {
  const pick = Math.floor(next() * (depth > 3 ? 6 : 8))
  const chars = ['a', 'é', '€', '😀', '\u0000', 'Z']
  switch (pick) {
    case 0: return null
    case 1: return next() < 0.5
    case 2: return [0, -1, 23, 24, 255, 256, 65_536, 2 ** 32, -(2 ** 40), 0.5, 1e300, -1.5e-300, Number.MAX_SAFE_INTEGER][Math.floor(next() * 13)] as number
    case 3: return Array.from({ length: Math.floor(next() * 40) }, () => chars[Math.floor(next() * chars.length)]).join('')
    case 4: return new Uint8Array(Math.floor(next() * 300))
    case 5: return 'x'.repeat(Math.floor(next() * 70_000))
    case 6: return Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, depth + 1))
    default: return randomObject(next, depth + 1)
  }
}

function randomObject (next: () => number, depth: number): StoredObject {
  const out: Record<string, StoredValue> = {}
  for (let i = Math.floor(next() * 6); i > 0; i--) out[`k${Math.floor(next() * 1000)}${i % 2 === 0 ? '€' : ''}`] = randomValue(next, depth)
  return out
}

test(`the size bound is never below a row's encoded size (seed ${seed})`, () => {
  const next = prng(seed)
  for (let i = 0; i < 2_000; i++) {
    const fields = randomObject(next, 0)
    const size = encodeFields(fields).length
    const bound = rowSizeBound(fields)
    assert.ok(bound >= size, `bound ${bound} < size ${size} for ${JSON.stringify(fields).slice(0, 200)}`)
  }
})

test('maxRecordBytes holds to the byte, whether the bound alone decides or the row is encoded', async () => {
  const limit = 4_096
  const db = await createDatabase({ name: 'row-size', storage: memoryStorage(), maxRecordBytes: limit })
  const notes = db.collection('notes', { schema: z.object({ text: z.string() }) })
  const overhead = encodeFields({ text: '' }).length
  // Exactly at the limit (its bound is above it, so it is encoded and measured): stored.
  const at = await notes.insert({ text: 'a'.repeat(limit - overhead - 2) })
  assert.equal(encodeFields({ text: 'a'.repeat(limit - overhead - 2) }).length, limit)
  // One byte over: refused, and the record keeps its value.
  await assert.rejects(notes.update(at, (n) => { n.text += 'b' }), { name: 'RecordTooLargeError' })
  assert.equal((await notes.get(at))?.text.length, limit - overhead - 2)
  // Small writes (decided by the bound) store rows that read back.
  const small = await notes.insert({ text: 'é€😀' })
  assert.equal((await notes.get(small))?.text, 'é€😀')
  await db.close()
})
