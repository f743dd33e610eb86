/**
 * An honest writer on a thread of its own (as on another device): a Kadmium
 * peer that dials the reader over TCP on 127.0.0.1 and, on `'go'`, writes as
 * fast as it can, each write awaited before the next.
 *
 * `workerData`: `{ target: multiaddr, name, mode: 'edit' | 'insert', n }`.
 * Posts `{ id }` once connected (the record the edits go to), `{ ms }` once
 * its writes are done, and `{ closed: true }` after `'close'`.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { multiaddr } from '@multiformats/multiaddr'
import { createDatabase } from '@kadmium/core'
import { Todo } from '../helpers/schemas.ts'
import { waitFor } from '../helpers/wait.ts'
import { createTestPeer, NO_TIMERS } from './helpers.ts'

interface WriterOrder {
  readonly target: string
  readonly name: string
  readonly mode: 'edit' | 'insert'
  readonly n: number
}

const order = workerData as WriterOrder
const port = parentPort
if (port === null) throw new Error('fast-writer-worker.ts runs as a worker')
const next = async (): Promise<unknown> => await new Promise((resolve) => port.once('message', resolve))

const peer = await createTestPeer({ tcp: true })
const db = await createDatabase({ name: order.name, peer, replication: NO_TIMERS })
await peer.libp2p.dial(multiaddr(order.target), { signal: AbortSignal.timeout(10_000) })
await waitFor(() => db.status.peers === 1, 'the reader on the topic', 10_000)
const todos = db.collection('todos', { schema: Todo })
const id = await todos.insert({ title: 'edit 0', done: false })
port.postMessage({ id })

await next()
const started = performance.now()
for (let i = 1; i <= order.n; i++) {
  if (order.mode === 'edit') await todos.update(id, (t) => { t.title = `edit ${i}` })
  else await todos.insert({ title: `record ${i}`, done: false })
}
port.postMessage({ ms: performance.now() - started })

await next()
await db.close()
await peer.close()
port.postMessage({ closed: true })
