/**
 * The peers of a chaos run as the run drives them, in this process or
 * each in an OS process of its own (LevelDB storage in a data directory;
 * a restart is a SIGKILL and a new process on the same directory).
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { memoryStorage, type StorageAdapter } from '@kadmium/core'
import { keepOpen } from '@kadmium/core/testing'
import { ChaosNode, type MessageFaults, type Op, type OpResult, type Snapshot } from './chaos-node.ts'
import { seeded } from './random.ts'

/** A peer of the run. */
export interface ChaosPeer {
  readonly index: number
  readonly id: string
  apply (op: Op): Promise<OpResult>
  snapshot (): Promise<Snapshot>
  /** Which of `ids` it can read (its replica, else the DHT). */
  read (ids: readonly string[]): Promise<string[]>
  addresses (): Promise<string[]>
  dial (addresses: readonly string[]): Promise<void>
  cut (peer: string): Promise<void>
  heal (peer: string): Promise<void>
  sync (): Promise<void>
  /** Stops abruptly and starts again from what its storage holds, still cut off from `cut`. */
  restart (cut: readonly string[]): Promise<void>
  /** Stops abruptly for good (a device lost). */
  kill (): Promise<void>
  close (): Promise<void>
}

/** What every peer of a run shares. */
export interface PeerSetup {
  readonly owner?: string | undefined
  readonly faults: MessageFaults
  /** Seed of the peer's own fault stream. */
  readonly seed: number
}

/** A peer in this process, on the memory transport, its storage in memory (kept across restarts). */
export class InProcessPeer implements ChaosPeer {
  readonly index: number
  readonly id: string
  readonly #key: Uint8Array
  readonly #setup: PeerSetup
  /** The device's storage: the database closes the view it is given, not this. */
  readonly #storage: StorageAdapter
  #node: ChaosNode
  #restarts = 0

  private constructor (index: number, key: Uint8Array, setup: PeerSetup, storage: StorageAdapter, node: ChaosNode) {
    this.index = index
    this.#key = key
    this.#setup = setup
    this.#storage = storage
    this.#node = node
    this.id = node.id
  }

  static async start (index: number, key: Uint8Array, setup: PeerSetup): Promise<InProcessPeer> {
    const storage = memoryStorage()
    const node = await ChaosNode.start({ key, transport: 'memory', storage: () => keepOpen(storage), owner: setup.owner, faults: setup.faults, random: seeded(setup.seed) })
    return new InProcessPeer(index, key, setup, storage, node)
  }

  async apply (op: Op): Promise<OpResult> { return await this.#node.apply(op) }
  async snapshot (): Promise<Snapshot> { return await this.#node.snapshot() }
  async read (ids: readonly string[]): Promise<string[]> { return await this.#node.read(ids) }
  async kill (): Promise<void> { await this.#node.crash() }
  async addresses (): Promise<string[]> { return this.#node.addresses() }
  async dial (addresses: readonly string[]): Promise<void> { await this.#node.dial(addresses) }
  async cut (peer: string): Promise<void> { await this.#node.cut(peer) }
  async heal (peer: string): Promise<void> { this.#node.heal(peer) }
  async sync (): Promise<void> { await this.#node.sync() }

  async restart (cut: readonly string[]): Promise<void> {
    await this.#node.crash()
    const storage = this.#storage
    this.#node = await ChaosNode.start({
      key: this.#key, transport: 'memory', storage: () => keepOpen(storage), owner: this.#setup.owner, faults: this.#setup.faults, random: seeded(this.#setup.seed + ++this.#restarts), cut
    })
  }

  async close (): Promise<void> { await this.#node.close() }
}

/** How long a peer process may take to answer one request (ms): a hang guard. */
const REQUEST_BOUND_MS = 120_000
const WORKER = join(import.meta.dirname, 'peer-process.ts')

/** A peer in an OS process of its own, on TCP (127.0.0.1), with LevelDB in `dir`. */
export class ProcessPeer implements ChaosPeer {
  readonly index: number
  readonly id: string
  readonly #key: Uint8Array
  readonly #dir: string
  readonly #setup: PeerSetup
  #child: ChildProcess
  #next = 0
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void, reject: (error: Error) => void }>()
  #restarts = 0

  private constructor (index: number, id: string, key: Uint8Array, dir: string, setup: PeerSetup, child: ChildProcess) {
    this.index = index
    this.id = id
    this.#key = key
    this.#dir = dir
    this.#setup = setup
    this.#child = child
    this.#listen(child)
  }

  static async start (index: number, key: Uint8Array, root: string, setup: PeerSetup): Promise<ProcessPeer> {
    const dir = join(root, `peer-${index}`)
    const { child, id } = await spawnPeer(key, dir, setup, setup.seed, [])
    return new ProcessPeer(index, id, key, dir, setup, child)
  }

  async apply (op: Op): Promise<OpResult> { return await this.#request('apply', op) as OpResult }
  async snapshot (): Promise<Snapshot> { return await this.#request('snapshot') as Snapshot }
  async read (ids: readonly string[]): Promise<string[]> { return await this.#request('read', ids) as string[] }
  async addresses (): Promise<string[]> { return await this.#request('addresses') as string[] }
  async dial (addresses: readonly string[]): Promise<void> { await this.#request('dial', addresses) }
  async cut (peer: string): Promise<void> { await this.#request('cut', peer) }
  async heal (peer: string): Promise<void> { await this.#request('heal', peer) }
  async sync (): Promise<void> { await this.#request('sync') }

  /** SIGKILL. */
  async kill (): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    const exited = new Promise((resolve) => this.#child.once('exit', resolve))
    this.#child.kill('SIGKILL')
    await exited
  }

  /** SIGKILL, then a new process on the same data directory. */
  async restart (cut: readonly string[]): Promise<void> {
    await this.kill()
    const { child } = await spawnPeer(this.#key, this.#dir, this.#setup, this.#setup.seed + ++this.#restarts, cut)
    this.#child = child
    this.#listen(child)
  }

  async close (): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    const exited = new Promise((resolve) => this.#child.once('exit', resolve))
    await this.#request('close').catch(() => {})
    const guard = setTimeout(() => this.#child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(guard)
  }

  #listen (child: ChildProcess): void {
    child.on('message', (message: { id?: number, result?: unknown, error?: string }) => {
      if (message.id === undefined) return
      const waiting = this.#waiting.get(message.id)
      this.#waiting.delete(message.id)
      if (message.error !== undefined) waiting?.reject(new Error(message.error))
      else waiting?.resolve(message.result)
    })
    child.on('exit', () => {
      for (const w of this.#waiting.values()) w.reject(new Error(`peer ${this.index} exited`))
      this.#waiting.clear()
    })
  }

  async #request (method: string, arg?: unknown): Promise<unknown> {
    const id = this.#next++
    const child = this.#child
    return await new Promise((resolve, reject) => {
      const guard = setTimeout(() => {
        this.#waiting.delete(id)
        reject(new Error(`peer ${this.index}: no answer to ${method} in ${REQUEST_BOUND_MS} ms`))
      }, REQUEST_BOUND_MS)
      this.#waiting.set(id, {
        resolve: (value) => { clearTimeout(guard); resolve(value) },
        reject: (error) => { clearTimeout(guard); reject(error) }
      })
      child.send({ id, method, arg })
    })
  }
}

/** Forks a peer process and waits for it to be ready. */
async function spawnPeer (key: Uint8Array, dir: string, setup: PeerSetup, seed: number, cut: readonly string[]): Promise<{ child: ChildProcess, id: string }> {
  const config = JSON.stringify({ key: Buffer.from(key).toString('base64'), dir, owner: setup.owner, faults: setup.faults, seed, cut })
  const child = fork(WORKER, [config], { execArgv: ['--conditions=development'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const id = await new Promise<string>((resolve, reject) => {
    const guard = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('a peer process did not start in 60 s')) }, 60_000)
    child.once('message', (message: { ready?: string }) => { clearTimeout(guard); resolve(String(message.ready)) })
    child.once('exit', (code) => { clearTimeout(guard); reject(new Error(`a peer process exited at start (${String(code)})`)) })
  })
  return { child, id }
}
