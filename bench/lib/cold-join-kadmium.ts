/**
 * The Kadmium joiner of the `cold-join` scenario, run in a fresh process
 * by `cold-join-child.ts`: what an app does to open a shared database by
 * its address and show its data.
 *
 * 1. `nodePeer()` on a fresh data directory, bootstrapping from the
 *    writer (whose dial starts inside `nodePeer()`, in the background);
 *    "node started" is when it resolved.
 * 2. Right away `createDatabase({ address, peer })`, once, no retry: it
 *    waits for the bootstrap connection and fetches the manifest itself.
 *    If it throws, the join fails.
 * 3. The collection with the fixtures' schema, and a live query of all
 *    its records: the clock stops at the callback that sees N rows.
 *
 * Also noted on the way: the connection to the writer (`connection:open`),
 * identify with it (`peer:identify`), the catch-up session's start,
 * progress and end (`sync` events), the first rows shown, and how busy
 * the event loop was while opening and while catching up.
 * @module
 */
import { join as joinPath } from 'node:path'
import type { EventLoopUtilization } from 'node:perf_hooks'
import { createDatabase } from '@kadmium/core'
import { nodePeer } from '@kadmium/node'
import type { JoinContext, JoinTimes } from './cold-join-protocol.ts'
import { COLLECTION, todoSchema } from './fixtures.ts'
import { QUIET } from './peers.ts'

export async function join ({ args, phase, onClose }: JoinContext): Promise<JoinTimes> {
  const loadedAt = performance.now()
  const bootstrap = args.writer[0]
  if (bootstrap === undefined) throw new Error('no writer address')
  phase('starting its node (nodePeer)')
  const peer = await nodePeer({ dataDir: joinPath(args.dir, 'peer'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, network: 'local', bootstrap: [bootstrap] })
  const nodeStartedAt = performance.now()
  const atNodeStart = performance.eventLoopUtilization()
  onClose('the peer', async () => peer.close())

  let connectedAt = peer.libp2p.getConnections().length > 0 ? nodeStartedAt : undefined
  let identifiedAt: number | undefined
  const onOpen = (): void => { connectedAt ??= performance.now() }
  const onIdentify = (): void => { identifiedAt ??= performance.now() }
  peer.libp2p.addEventListener('connection:open', onOpen)
  peer.libp2p.addEventListener('peer:identify', onIdentify)
  onClose('the connection listeners', async () => {
    peer.libp2p.removeEventListener('connection:open', onOpen)
    peer.libp2p.removeEventListener('peer:identify', onIdentify)
  })

  phase('opening the database by address (createDatabase)')
  const db = await createDatabase({ address: args.address, peer, replication: QUIET })
  const openedAt = performance.now()
  const atOpen = performance.eventLoopUtilization()
  onClose('the database', async () => db.close())

  let syncStartAt: number | undefined
  let sessions = 0
  let syncDoneAt: number | undefined
  let syncError: string | undefined
  const progress: Array<[number, number, number]> = []
  const offSync = db.on('sync', (event) => {
    if (event.phase === 'start') {
      syncStartAt ??= performance.now()
      sessions++
    }
    else if (event.phase === 'progress') progress.push([performance.now(), event.done, event.total])
    else if (event.phase === 'done') syncDoneAt ??= performance.now()
    else if (event.phase === 'error') syncError ??= `${event.error?.name ?? 'Error'}: ${event.error?.message ?? '?'}`
  })
  onClose('the sync listener', async () => { offSync() })

  const todos = db.collection(COLLECTION, { schema: todoSchema })
  let firstAt: number | undefined
  let atReadable: EventLoopUtilization | undefined
  phase(`waiting for ${args.records} records in a live query (none yet)`)
  const readableAt = await new Promise<number>((resolve, reject) => {
    const stop = todos.subscribe({}, (rows) => {
      const at = performance.now()
      if (rows.length > 0) firstAt ??= at
      if (rows.length === args.records) {
        atReadable ??= performance.eventLoopUtilization()
        resolve(at)
      }
      else if (rows.length > args.records) reject(new Error(`the live query shows ${rows.length} records; the writer holds ${args.records}`))
      else phase(`waiting for ${args.records} records in a live query (${rows.length} so far${syncError === undefined ? '' : `; the catch-up session failed: ${syncError}`})`)
    })
    onClose('the live query', async () => { stop() })
  })
  // The session's last progress event follows the apply that made the rows live: let it come (the clock has stopped).
  await new Promise((resolve) => { setImmediate(resolve) })
  const busy = {
    opening: performance.eventLoopUtilization(atOpen, atNodeStart).utilization,
    catchingUp: performance.eventLoopUtilization(atReadable ?? performance.eventLoopUtilization(), atOpen).utilization
  }
  const count = await todos.count()
  if (count !== args.records) throw new Error(`count() is ${count} once the live query showed ${args.records} records`)

  return {
    mode: 'kadmium',
    records: args.records,
    timeOrigin: performance.timeOrigin,
    loadedAt,
    nodeStartedAt,
    ...(connectedAt !== undefined ? { connectedAt } : {}),
    ...(identifiedAt !== undefined ? { identifiedAt } : {}),
    openedAt,
    ...(syncStartAt !== undefined ? { syncStartAt } : {}),
    ...(firstAt !== undefined ? { firstAt } : {}),
    ...(syncDoneAt !== undefined ? { syncDoneAt } : {}),
    readableAt,
    progress,
    sessions,
    joinerLeads: peer.peerId.toString() < (bootstrap.split('/p2p/')[1] ?? ''),
    busy
  }
}
