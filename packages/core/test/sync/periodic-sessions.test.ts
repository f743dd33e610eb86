/**
 * Whom the periodic catch-up picks: every peer not caught up with yet,
 * and at most a few of the peers this side leads — so that a peer's
 * sessions at rest do not grow with its connections — different ones from
 * round to round.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { periodicSessions, PERIODIC_SESSIONS, type PeriodicPeer } from '../../src/replication/periodic-sessions.ts'

const peer = (key: string, synced: boolean, leads: boolean): PeriodicPeer<string> => ({ peer: key, key, synced, leads })

test('every peer not caught up with yet, whoever leads, and no more than the cap of the led ones caught up with', () => {
  const peers = [
    peer('new-led', false, true), peer('new-other', false, false),
    ...Array.from({ length: 20 }, (_, i) => peer(`led-${i}`, true, true)),
    ...Array.from({ length: 20 }, (_, i) => peer(`other-${i}`, true, false))
  ]
  const chosen = periodicSessions(peers)
  assert.ok(chosen.includes('new-led') && chosen.includes('new-other'))
  const led = chosen.filter((p) => p.startsWith('led-'))
  assert.equal(led.length, PERIODIC_SESSIONS)
  assert.equal(new Set(led).size, led.length, 'no peer twice')
  assert.ok(!chosen.some((p) => p.startsWith('other-')), 'the other side of a pair chooses its own sessions')
})

test('a peer with several connections is one choice; with few peers, all of them', () => {
  const peers = [peer('a', true, true), peer('a', true, true), peer('b', true, true), peer('c', false, false), peer('c', false, false)]
  assert.deepEqual(periodicSessions(peers).sort(), ['a', 'b', 'c'])
})

test('the led peers are drawn anew each round: over rounds, each of them gets sessions', () => {
  const peers = Array.from({ length: 40 }, (_, i) => peer(`led-${i}`, true, true))
  const seen = new Set<string>()
  for (let round = 0; round < 200; round++) for (const p of periodicSessions(peers)) seen.add(p)
  assert.equal(seen.size, 40)
})

test('the draw follows the random source given', () => {
  const peers = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => peer(k, true, true))
  assert.deepEqual(periodicSessions(peers, 2, () => 0), ['a', 'b'])
  assert.deepEqual(periodicSessions(peers, 2, () => 0.999), ['f', 'a'])
})
