/**
 * Presence on one device: the state a peer sets, what is refused (with
 * `PresenceError`, changing nothing), and the options.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { z } from 'zod'
import { createDatabase, memoryStorage, MAX_PRESENCE_STATE_BYTES } from '@kadmium/core'

const Cursor = z.object({ nick: z.string().min(1), typing: z.boolean(), cursor: z.number().int().optional() })

test('a local database keeps its own presence state, and no peers', async () => {
  const db = await createDatabase<{ nick: string }>({ name: 'local', storage: memoryStorage() })
  assert.equal(db.presence.self, undefined)
  const seen: unknown[] = []
  const stop = db.presence.subscribe((peers) => seen.push(peers))
  assert.deepEqual(seen, [[]], 'subscribe calls back at once with the peers present: none')
  db.presence.set({ nick: 'ada' })
  assert.deepEqual(db.presence.self, { nick: 'ada' })
  assert.deepEqual(db.presence.peers(), [])
  db.presence.clear()
  assert.equal(db.presence.self, undefined)
  stop()
  await db.close()
  assert.throws(() => { db.presence.set({ nick: 'late' }) }, { name: 'DatabaseClosedError' })
})

test('a state that cannot travel is refused with PresenceError, and the last one stays', async () => {
  const db = await createDatabase({ name: 'refusals', storage: memoryStorage() })
  db.presence.set({ nick: 'ada' })
  const refused: unknown[] = [
    null, 'ada', 42, ['ada'], new Uint8Array(3),
    { f: () => 1 },
    { big: 'x'.repeat(MAX_PRESENCE_STATE_BYTES) }
  ]
  for (const state of refused) {
    assert.throws(() => { db.presence.set(state as never) }, { name: 'PresenceError' }, `refused: ${typeof state}`)
  }
  assert.deepEqual(db.presence.self, { nick: 'ada' })
  await db.close()
})

test('a schema types and checks the states: its output is what is kept', async () => {
  const db = await createDatabase({ name: 'typed', storage: memoryStorage(), presence: { schema: Cursor } })
  db.presence.set({ nick: 'ada', typing: false })
  // Typed from the schema: a wrong field does not compile.
  // @ts-expect-error `typing` is a boolean
  assert.throws(() => { db.presence.set({ nick: 'ada', typing: 'yes' }) }, { name: 'PresenceError' })
  assert.throws(() => { db.presence.set({ nick: '', typing: true }) }, (error: Error) => error.name === 'PresenceError' && /nick/.test(error.message))
  assert.deepEqual(db.presence.self, { nick: 'ada', typing: false })
  const nicks: string[] = db.presence.peers().map((p) => p.state.nick)
  assert.deepEqual(nicks, [])
  await db.close()
})

test('presence options are checked: whole ms, expiry longer than the heartbeat, a Standard Schema', async () => {
  for (const presence of [
    { heartbeat: 0 }, { heartbeat: 1.5 }, { expiry: 50 }, { heartbeat: 5000, expiry: 5000 }, { expiry: 11 * 60_000 }, { schema: {} }, 'often'
  ]) {
    await assert.rejects(createDatabase({ name: 'options', storage: memoryStorage(), presence: presence as never }), { name: 'InvalidArgumentError' }, JSON.stringify(presence))
  }
  const db = await createDatabase({ name: 'options', storage: memoryStorage(), presence: { heartbeat: 200, expiry: 1000 } })
  assert.equal(db.presence.heartbeat, 200)
  assert.equal(db.presence.expiry, 1000)
  await db.close()
})

test('a listener that throws does not stop the others; the database reports it', async () => {
  const db = await createDatabase({ name: 'listeners', storage: memoryStorage() })
  const errors: Error[] = []
  db.on('error', (e) => errors.push(e))
  db.presence.subscribe(() => { throw new Error('app bug') })
  let called = 0
  db.presence.subscribe(() => { called++ })
  assert.equal(called, 1)
  assert.equal(errors.length, 1)
  assert.equal(errors[0]?.message, 'app bug')
  await db.close()
})
