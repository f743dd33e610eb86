import assert from 'node:assert/strict'
import { test } from 'node:test'
import { newId } from '@kadmium/core'

test('ids are 26-character ULIDs that sort by creation, strictly within one millisecond', () => {
  const ids = Array.from({ length: 2000 }, () => newId())
  for (const id of ids) assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/)
  assert.deepEqual([...ids].sort(), ids)
  assert.equal(new Set(ids).size, ids.length)
})

test('the time part encodes the clock', () => {
  const early = newId(Date.UTC(2020, 0, 1))
  const late = newId(Date.UTC(2030, 0, 1))
  assert.ok(early.slice(0, 10) < late.slice(0, 10))
})
