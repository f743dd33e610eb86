/**
 * A chaos peer in a process of its own: LevelDB storage in its data
 * directory (what a SIGKILL leaves is what a restart finds), TCP on
 * 127.0.0.1, driven by its parent over IPC.
 * @module
 */
import { levelStorage } from '@kadmium/node/level'
import { ChaosNode, type MessageFaults, type Op } from './chaos-node.ts'
import { seeded } from './random.ts'

interface Config { key: string, dir: string, owner?: string, faults: MessageFaults, seed: number, cut: string[] }
const config = JSON.parse(process.argv[2] ?? '{}') as Config
const node = await ChaosNode.start({
  key: new Uint8Array(Buffer.from(config.key, 'base64')),
  transport: 'tcp',
  storage: () => levelStorage(config.dir),
  owner: config.owner,
  faults: config.faults,
  random: seeded(config.seed),
  cut: config.cut
})
const send = (message: unknown): void => { process.send?.(message) }

const methods: Record<string, (arg: unknown) => Promise<unknown>> = {
  apply: async (op) => await node.apply(op as Op),
  snapshot: async () => await node.snapshot(),
  read: async (ids) => await node.read(ids as string[]),
  addresses: async () => node.addresses(),
  dial: async (addresses) => { await node.dial(addresses as string[]) },
  cut: async (peer) => { await node.cut(peer as string) },
  heal: async (peer) => { node.heal(peer as string) },
  sync: async () => { await node.sync() },
  close: async () => {
    await node.close()
    setImmediate(() => process.exit(0))
  }
}

process.on('message', (message: { id: number, method: string, arg?: unknown }) => {
  const method = methods[message.method]
  if (method === undefined) {
    send({ id: message.id, error: `no method ${message.method}` })
    return
  }
  method(message.arg).then(
    (result) => { send({ id: message.id, result }) },
    (error: unknown) => { send({ id: message.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }) }
  )
})
// The parent gone: nothing to serve.
process.on('disconnect', () => { void node.crash().finally(() => process.exit(0)) })
send({ ready: node.id })
