/**
 * An honest writer as fast as it can go, on a thread of its own: more
 * envelopes than the reader applies at once arrive, and gossip hands some
 * over out of order. Whatever the reader drops or receives ahead of a gap
 * must still arrive — through a catch-up it asks for itself, not the
 * periodic one (off here) — and the writer is not throttled.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Worker } from 'node:worker_threads'
import { createDatabase, type Database, type RejectedEvent } from '@kadmium/core'
import { Todo, type Todos } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { closedAfterFile, createTestPeer, NO_TIMERS } from './helpers.ts'

const { peers, dbs } = closedAfterFile()
const workers: Worker[] = []
after(async () => {
  for (const worker of workers) await worker.terminate()
})

interface Reader {
  readonly db: Database
  readonly todos: Todos
  /** The record the edits go to. */
  readonly id: string
  /** The reader's `rejected` events. */
  readonly rejected: RejectedEvent[]
  /** Resolves once the writer's writes are done (their time, ms). */
  readonly written: Promise<number>
}

/** A reader, and a writer in a worker that makes `n` writes of `mode` once told. */
async function fastWriter (name: string, mode: 'edit' | 'insert', n: number): Promise<Reader> {
  const peer = await createTestPeer({ tcp: true })
  peers.push(peer)
  const db = await createDatabase({ name, peer, replication: NO_TIMERS })
  dbs.push(db)
  const rejected: RejectedEvent[] = []
  db.on('rejected', (e) => rejected.push(e))
  const target = peer.libp2p.getMultiaddrs().find((m) => m.toString().includes('/tcp/'))
  assert.ok(target !== undefined)
  const worker = new Worker(new URL('./fast-writer-worker.ts', import.meta.url), { workerData: { target: target.toString(), name, mode, n } })
  workers.push(worker)
  const reports: Array<{ id?: string, ms?: number }> = []
  const failures: Error[] = []
  worker.on('message', (m: { id?: string, ms?: number }) => { reports.push(m) })
  worker.on('error', (error: Error) => { failures.push(error) })
  const report = async <K extends 'id' | 'ms'>(key: K): Promise<NonNullable<{ id?: string, ms?: number }[K]>> => {
    await waitFor(() => failures.length > 0 || reports.some((r) => r[key] !== undefined), `the writer's ${key}`, 60_000)
    if (failures[0] !== undefined) throw failures[0]
    return reports.find((r) => r[key] !== undefined)?.[key] as NonNullable<{ id?: string, ms?: number }[K]>
  }
  const id = await report('id')
  await waitFor(() => db.status.peers === 1, 'the writer on the topic', 10_000)
  worker.postMessage('go')
  return { db, todos: db.collection('todos', { schema: Todo }), id, rejected, written: report('ms') }
}

test('5,000 edits of one record as fast as the writer goes: the last one arrives, nothing throttled', { timeout: 90_000 }, async () => {
  const { todos, id, rejected, written } = await fastWriter('fast-edits', 'edit', 5_000)
  await written
  await waitFor(async () => (await todos.get(id, { network: false }))?.title === 'edit 5000', 'the last edit at the reader', 30_000)
  assert.deepEqual(rejected, [], 'nothing throttled or refused')
})

test('3,000 inserts as fast as the writer goes: every record arrives, nothing throttled', { timeout: 90_000 }, async () => {
  const { todos, rejected, written } = await fastWriter('fast-inserts', 'insert', 3_000)
  await written
  await waitFor(async () => await todos.count() === 3_001, 'every record at the reader', 30_000)
  assert.deepEqual(rejected, [], 'nothing throttled or refused')
})
