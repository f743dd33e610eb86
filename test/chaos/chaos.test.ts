/**
 * The chaos runs CI does: fixed seeds (each a past run that passed, kept
 * so that a regression shows under its seed) and one fresh seed, printed
 * so that a failure replays with `npm run chaos -- --seed S ...`.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { disagreement, runChaos, type ChaosOptions } from './chaos.ts'
import type { Snapshot } from './chaos-node.ts'
import { freshSeed } from './random.ts'

async function passes (options: ChaosOptions): Promise<void> {
  const lines: string[] = []
  const report = await runChaos({ ...options, log: (line) => { lines.push(line) } })
  assert.deepEqual(report.problems, [], `npm run chaos -- ${report.options}\n${lines.join('\n')}`)
  assert.ok(report.acknowledged > options.ops / 3, `most operations were acknowledged (${report.acknowledged} of ${options.ops})`)
}

describe('seeded chaos: every replica converges and every acknowledged write survives', { timeout: 600_000 }, () => {
  for (const seed of [1, 2, 3]) {
    test(`in one process, seed ${seed}: 5 peers, 300 operations`, async () => {
      await passes({ seed, peers: 5, ops: 300, mode: 'memory', restricted: false })
    })
  }
  test('in one process, a restricted database, seed 11: grants and revocations among 5 peers', async () => {
    await passes({ seed: 11, peers: 5, ops: 300, mode: 'memory', restricted: true })
  })
  test('peers in their own processes (LevelDB, SIGKILL and restart), seed 4: 4 peers, 200 operations', async () => {
    await passes({ seed: 4, peers: 4, ops: 200, mode: 'processes', restricted: false })
  })
  const seed = freshSeed()
  test(`in one process, a fresh seed: ${seed} (npm run chaos -- --seed ${seed} --peers 5 --ops 300)`, async () => {
    console.log(`chaos: fresh seed ${seed}`)
    await passes({ seed, peers: 5, ops: 300, mode: 'memory', restricted: false })
  })
})

describe('the chaos checks', () => {
  const snapshot = (records: Record<string, string>, vectors: Record<string, Record<string, number>> = {}, writers: string[] = []): Snapshot => ({ records, vectors, writers })
  test('agreeing snapshots pass; a missing record, another value, another state vector or other writers are each found', () => {
    const a = snapshot({ r1: '{"n":1}' }, { r1: { 7: 3 } })
    assert.equal(disagreement(new Map([[{ index: 0 }, a], [{ index: 1 }, snapshot({ r1: '{"n":1}' }, { r1: { 7: 3 } })]])), undefined)
    assert.match(disagreement(new Map([[{ index: 0 }, a], [{ index: 1 }, snapshot({})]])) ?? '', /record r1: .*missing/)
    assert.match(disagreement(new Map([[{ index: 0 }, a], [{ index: 1 }, snapshot({ r1: '{"n":2}' }, { r1: { 7: 3 } })]])) ?? '', /record r1/)
    assert.match(disagreement(new Map([[{ index: 0 }, a], [{ index: 1 }, snapshot({ r1: '{"n":1}' }, { r1: { 7: 4 } })]])) ?? '', /state vectors differ/)
    assert.match(disagreement(new Map([[{ index: 0 }, a], [{ index: 1 }, snapshot({ r1: '{"n":1}' }, { r1: { 7: 3 } }, ['x'])]])) ?? '', /writers differ/)
  })
})
