/**
 * The scan of LevelDB storage once LevelDB refused a batch (a full disk):
 * LevelDB's entries with the writes it lacks merged in, in LevelDB's order.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compareUtf8, mergeUnstored } from '../src/merged-scan.ts'

const bytes = (n: number): Uint8Array => new Uint8Array([n])

async function * stored (entries: Array<[string, number]>): AsyncIterable<[string, Uint8Array]> {
  for (const [key, n] of entries) yield [key, bytes(n)]
}

async function merged (limit = Infinity): Promise<Array<[string, number]>> {
  const unstored: Array<[string, Uint8Array | undefined]> = [['a', bytes(10)], ['b', undefined], ['c', bytes(30)], ['d', bytes(40)], ['f', undefined], ['g', bytes(70)]]
  const out: Array<[string, number]> = []
  for await (const [key, value] of mergeUnstored(stored([['b', 2], ['c', 3], ['e', 5], ['f', 6]]), unstored, limit)) out.push([key, value[0] as number])
  return out
}

test('puts replace or add entries, deletes hide them, in key order', async () => {
  assert.deepEqual(await merged(), [['a', 10], ['c', 30], ['d', 40], ['e', 5], ['g', 70]])
})

test('a limit counts the merged entries', async () => {
  assert.deepEqual(await merged(0), [])
  assert.deepEqual(await merged(3), [['a', 10], ['c', 30], ['d', 40]])
  assert.deepEqual(await merged(4), [['a', 10], ['c', 30], ['d', 40], ['e', 5]])
})

test('keys order by their UTF-8 bytes, as in LevelDB', () => {
  const keys = ['\u{10000}', '\uFFFF', 'z', 'a', '\u00e9']
  assert.deepEqual(keys.sort(compareUtf8), ['a', 'z', '\u00e9', '\uFFFF', '\u{10000}'])
})
