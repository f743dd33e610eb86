/**
 * Regression, found by the chaos run `npm run chaos -- --seed 2 --peers 5
 * --ops 300`: a durable write (`durability: { replicas }`) under way when
 * its peer's node stops (a crash, the app closing the peer first) rejected
 * with kad-dht's bare `Error: QueryManager not started`. It now rejects
 * with `DurabilityError` (the stop as its `cause`), as a put that reached
 * too few peers does: the write itself is stored on the device. And
 * closing the database then rejected (`Pubsub is not started`, from
 * leaving its topics), leaving its storage open: it now closes.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDatabase } from '@kadmium/core'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { closedAfterFile, connect, createTestPeer, routingTableSize } from '../sync/helpers.ts'

const { peers, dbs } = closedAfterFile()

test('chaos seed 2: a durable write whose node stops under it rejects with DurabilityError and is stored; the database then closes', { timeout: 60_000 }, async () => {
  const [writer, other] = await Promise.all([createTestPeer(), createTestPeer()])
  peers.push(writer, other)
  await connect(writer, other)
  await waitFor(() => routingTableSize(writer) > 0, 'the writer\'s routing table to hold the other peer', 10_000)
  const db = await createDatabase({ name: 'stopped-under-a-put', peer: writer })
  dbs.push(db)
  const todos = db.collection('todos', { schema: Todo })
  const stored = new Promise<string>((resolve) => { db.on('change', (e) => { resolve(e.id) }) })
  const writing = todos.insert({ title: 'durable', done: false }, { durability: { replicas: 1, timeout: 10_000 } })
  // The local write lands; the node stops while the put looks for its peers.
  const id = await stored
  await writer.libp2p.stop()
  await assert.rejects(writing, (error: Error) => {
    assert.equal(error.name, 'DurabilityError', `${error.name}: ${error.message}`)
    return true
  })
  assert.equal((await todos.get(id, { network: false }))?.title, 'durable', 'the write is on the device')
  await db.close()
  assert.equal(db.status.open, false)
})
