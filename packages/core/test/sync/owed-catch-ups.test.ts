/**
 * Catch-ups owed after drops and gaps: when they run, for whom, and when
 * they are not needed.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { OwedCatchUps } from '../../src/sync/owed-catch-ups.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * Owed catch-ups with a 10 ms settle time, whose syncs are recorded and
 * close every gap (unless `fills` is off: the peer lacked the updates too;
 * or `fails` is on: the session failed); `busy` and the open gaps are the
 * test's to set.
 */
function owed (): { owed: OwedCatchUps, synced: string[], state: { busy: boolean, fills: boolean, fails: boolean, open: Set<string> } } {
  const synced: string[] = []
  const state = { busy: false, fills: true, fails: false, open: new Set<string>() }
  const o = new OwedCatchUps({
    sync: async (peer) => {
      synced.push(peer)
      if (state.fails) return false
      if (state.fills) state.open.clear()
      return true
    },
    busy: () => state.busy,
    waiting: (collection, id) => state.open.has(`${collection}/${id ?? ''}`)
  }, 10)
  return { owed: o, synced, state }
}

test('a drop owes its peer one catch-up, however many drops', async () => {
  const { owed: o, synced } = owed()
  o.dropped('p1')
  o.dropped('p1')
  o.dropped('p2')
  assert.equal(o.size, 2)
  assert.deepEqual(synced, [], 'not at once')
  await waitFor(() => synced.length === 2, 'the catch-ups')
  assert.deepEqual(synced.sort(), ['p1', 'p2'])
  assert.equal(o.size, 0)
})

test('a gap owes a catch-up only if it is still open when the time comes', async () => {
  const { owed: o, synced, state } = owed()
  state.open.add('todos/b')
  o.gaps('p1', [['todos', 'a']]) // closes on its own (out of order)
  o.gaps('p2', [['todos', 'a'], ['todos', 'b']]) // one stays open
  await waitFor(() => o.size === 0, 'the owed catch-ups considered')
  assert.deepEqual(synced, ['p2'])
})

/** Asserts that `synced` reaches three catch-ups with `p1`, and then stays there. */
async function threeAttempts (synced: string[]): Promise<void> {
  await waitFor(() => synced.length === 3, 'three catch-ups')
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.deepEqual(synced, ['p1', 'p1', 'p1'], 'then no more')
}

test('a gap a session left open (the peer lacked the update too) is caught up again, three times at most', async () => {
  const { owed: o, synced, state } = owed()
  state.fills = false
  state.open.add('todos/')
  o.gaps('p1', [['todos']]) // the collection index
  await threeAttempts(synced)
})

test('a catch-up owed for a drop whose session failed is tried again, three times at most', async () => {
  const { owed: o, synced, state } = owed()
  state.fails = true
  o.dropped('p1')
  await threeAttempts(synced)
})

test('while the peer is busy applying a backlog, the catch-up waits for it', async () => {
  const { owed: o, synced, state } = owed()
  state.busy = true
  o.dropped('p1')
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.deepEqual(synced, [], 'none while busy')
  state.busy = false
  await waitFor(() => synced.length === 1, 'the catch-up once the backlog is applied')
})

test('after stop, nothing runs', async () => {
  const { owed: o, synced } = owed()
  o.dropped('p1')
  o.stop()
  o.dropped('p2')
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.deepEqual(synced, [])
})
