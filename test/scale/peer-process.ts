/**
 * A scale peer's process: started by the run (in a network namespace of
 * its own, see lab.ts), it says hello, is told where it lives, starts its
 * node (scale-node.ts), and answers the run's requests over IPC. It ends
 * when the run closes it or its IPC channel goes (the run ended).
 * @module
 */
import { randomBytes } from 'node:crypto'
import { heldRecords, traceLookup } from './dht-probe.ts'
import { ScaleNode, type StartConfig } from './scale-node.ts'

let node: ScaleNode | undefined
const send = (message: unknown): void => { process.send?.(message) }

function started (): ScaleNode {
  if (node === undefined) throw new Error('the node has not started')
  return node
}

/** A lookup's arguments: a key (hex), or none for a random one. */
interface LookupArgs { readonly kind: 'closest' | 'get', readonly key?: string, readonly timeoutMs: number }

const methods: Record<string, (arg: never) => Promise<unknown>> = {
  start: async (config: StartConfig) => {
    node = await ScaleNode.start(config)
    return { id: node.peer.peerId.toString(), addresses: node.peer.multiaddrs.map(String) }
  },
  open: async ({ label, target, openTimeout }: { label: string, target: { name: string } | { address: string }, openTimeout: number }) =>
    await started().open(label, target, openTimeout),
  write: async ({ label, id, text, n, replicas }: { label: string, id: string, text: string, n: number, replicas?: number }) =>
    await started().write(label, id, text, n, replicas),
  arrivals: async (label: string) => started().arrivals(label),
  waitFor: async ({ label, ids, timeoutMs }: { label: string, ids: string[], timeoutMs: number }) => await started().waitFor(label, ids, timeoutMs),
  replication: async (label: string) => started().replication(label),
  usage: async () => started().usage(),
  lookup: async ({ kind, key, timeoutMs }: LookupArgs) =>
    await traceLookup(started().peer.libp2p, key === undefined ? randomBytes(32) : Buffer.from(key, 'hex'), kind, timeoutMs),
  held: async () => await heldRecords(started().peer.libp2p),
  close: async () => {
    await node?.close()
    setImmediate(() => process.exit(0))
  }
}

process.on('message', (message: { id: number, method: string, arg?: unknown }) => {
  const method = methods[message.method]
  if (method === undefined) {
    send({ id: message.id, error: `no method ${message.method}` })
    return
  }
  method(message.arg as never).then(
    (result) => { send({ id: message.id, result }) },
    (error: unknown) => { send({ id: message.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }) }
  )
})
// The run gone: nothing to serve. No clean close: the run ended, or killed us.
process.on('disconnect', () => { process.exit(0) })
send({ hello: process.pid })
