/**
 * The OrbitDB joiner of the `cold-join` scenario, run in a fresh process
 * by `cold-join-child.ts`, the same shape as the Kadmium one: start an
 * OrbitDB node (`startOrbitNode`: libp2p, Helia and OrbitDB on LevelDB in
 * a fresh directory; "node started" is when it resolved), dial the writer,
 * `orbitdb.open(address)`, and stop once the database holds all N
 * documents (`waitForDocuments`: the time of the `update` event, or poll,
 * after which `all()` counted N — not when that `all()` returned).
 * @module
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { JoinContext, JoinTimes } from './cold-join-protocol.ts'
import { startOrbitNode, waitForDocuments, type OrbitTodo } from './orbitdb.ts'

/** Longest wait for the dial of the writer. */
const DIAL_MS = 10_000

export async function join ({ args, phase, onClose }: JoinContext): Promise<JoinTimes> {
  const loadedAt = performance.now()
  phase('starting its node (libp2p, Helia, OrbitDB)')
  const node = await startOrbitNode('joiner')
  const nodeStartedAt = performance.now()
  onClose('the OrbitDB node', async () => {
    for (const problem of await node.close()) process.stderr.write(`cold-join orbitdb joiner: ${problem}\n`)
  })

  phase('dialing the writer')
  await node.libp2p.dial(args.writer.map((a) => multiaddr(a)), { signal: AbortSignal.timeout(DIAL_MS) })
  const connectedAt = performance.now()

  phase('opening the database by address (orbitdb.open)')
  const db = await node.orbitdb.open<OrbitTodo>(args.address)
  const openedAt = performance.now()

  let firstAt: number | undefined
  const onUpdate = (): void => { firstAt ??= performance.now() }
  db.events.on('update', onUpdate)
  onClose('the update listener', async () => { db.events.off('update', onUpdate) })
  phase(`waiting for ${args.records} documents`)
  // Its own timeout a little before the process's, so that its message (how many arrived) is the one seen.
  const readableAt = await waitForDocuments(db, args.records, Math.max(1_000, args.timeoutMs - performance.now() - 2_000))

  return {
    mode: 'orbitdb',
    records: args.records,
    timeOrigin: performance.timeOrigin,
    loadedAt,
    nodeStartedAt,
    connectedAt,
    openedAt,
    ...(firstAt !== undefined ? { firstAt } : {}),
    readableAt
  }
}
