/**
 * The raw limit of the `cold-join` scenario: the least a fresh process
 * on bare libp2p and Yjs does to get N records from a peer.
 *
 * - The server (in the bench process, {@link serveRaw}): a bare libp2p
 *   node holding the N records as raw Yjs updates in memory, already
 *   framed; on each stream of {@link RAW_PROTOCOL} it writes the count,
 *   then every `[id, update]` message length-prefixed, 256 a write (the
 *   protocol of `bench/scenarios/replicate.ts`'s baseline).
 * - The joiner ({@link join}, in a fresh process run by
 *   `cold-join-child.ts`): one bare libp2p node (Kadmium's profile for
 *   network 'local': noise, yamux, identify and ping, over TCP; no DHT, no
 *   gossipsub; "node started" is when `createLibp2p()` resolved), which
 *   dials the server on that protocol, reads the stream, applies each
 *   update to a `Y.Doc` of its own (kept, in a Map by id), and stops once
 *   the last one is applied. Nothing is stored.
 * @module
 */
import { kadmiumLibp2pOptions } from '@kadmium/core/profile'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import * as Y from 'yjs'
import { RAW_MAX_MESSAGE, RAW_PROTOCOL, RAW_WRITE_BATCH, type JoinContext, type JoinTimes } from './cold-join-protocol.ts'
import { unframe } from './raw-frames.ts'

/** Longest wait for the dial of the server. */
const DIAL_MS = 10_000

/** Serves `frames` (each made by `frame(id, update)`) on {@link RAW_PROTOCOL}: the count, then every frame. */
export async function serveRaw (node: Libp2p, frames: readonly Uint8Array[]): Promise<void> {
  await node.handle(RAW_PROTOCOL, async (stream) => {
    try {
      const lp = lpStream(stream, { maxDataLength: RAW_MAX_MESSAGE })
      const header = new Uint8Array(4)
      new DataView(header.buffer).setUint32(0, frames.length)
      await lp.write(header)
      for (let i = 0; i < frames.length; i += RAW_WRITE_BATCH) await lp.writeV(frames.slice(i, i + RAW_WRITE_BATCH))
      await stream.close()
    } catch (error) {
      stream.abort(error as Error)
    }
  })
}

export async function join ({ args, phase, onClose }: JoinContext): Promise<JoinTimes> {
  const loadedAt = performance.now()
  phase('starting its node (createLibp2p)')
  const kadmium = kadmiumLibp2pOptions({ network: 'local' })
  const { identify, ping } = kadmium.services
  const node = await createLibp2p({
    ...kadmium,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    services: { identify, ping }
  })
  const nodeStartedAt = performance.now()
  onClose('the libp2p node', async () => node.stop())

  phase('dialing the server')
  const stream = await node.dialProtocol(args.writer.map((a) => multiaddr(a)), RAW_PROTOCOL, { signal: AbortSignal.timeout(DIAL_MS) })
  const connectedAt = performance.now()
  onClose('the stream', async () => stream.close())
  const lp = lpStream(stream, { maxDataLength: RAW_MAX_MESSAGE })
  const signal = AbortSignal.timeout(Math.round(Math.max(1_000, args.timeoutMs - performance.now() - 2_000)))
  phase('reading the record count')
  const header = (await lp.read({ signal })).subarray()
  const total = new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(0)
  const openedAt = performance.now()
  if (total !== args.records) throw new Error(`the server announced ${total} records, expected ${args.records}`)

  const docs = new Map<string, Y.Doc>()
  let firstAt: number | undefined
  phase(`reading ${total} records`)
  for (let i = 0; i < total; i++) {
    const { id, update } = unframe((await lp.read({ signal })).subarray())
    // The record id as guid spares Yjs drawing a random one, as Kadmium does.
    const doc = new Y.Doc({ guid: id })
    Y.applyUpdate(doc, update)
    docs.set(id, doc)
    firstAt ??= performance.now()
  }
  const readableAt = performance.now()
  if (docs.size !== total) throw new Error(`${docs.size} distinct records among the ${total} received`)

  return {
    mode: 'raw',
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
