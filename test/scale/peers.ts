/**
 * The run's handle on one scale peer's process (peer-process.ts): start
 * it in the lab, ask it things over IPC, kill it (SIGKILL: churn), start
 * it again on the same data directory (same key, same address), close it.
 * @module
 */
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { Lab, PeerPlace } from './lab.ts'

/** Longest wait for a peer's process to answer one request (ms): a hang guard. */
const REQUEST_BOUND_MS = 180_000
const WORKER = join(import.meta.dirname, 'peer-process.ts')

/** How long a peer took to start. */
export interface StartTimes {
  /** From spawn to its modules loaded (its hello), ms. */
  readonly loadMs: number
  /** From its hello to its node listening, ms. */
  readonly nodeMs: number
}

/** A peer of the run, in its own process. */
export class ScalePeer {
  readonly index: number
  readonly dataDir: string
  readonly #lab: Lab
  readonly #nodeOptions: readonly string[]
  #child: ChildProcess | undefined
  #id = ''
  #addresses: string[] = []
  #next = 0
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void, reject: (error: Error) => void }>()

  /** `nodeOptions`: Node.js options of its process, beside `--conditions=development`. */
  constructor (lab: Lab, index: number, root: string, nodeOptions: readonly string[] = []) {
    this.#lab = lab
    this.#nodeOptions = nodeOptions
    this.index = index
    this.dataDir = join(root, `peer-${index}`)
  }

  /** Its peer id (known once started: the same across restarts). */
  get id (): string { return this.#id }
  /** Its multiaddrs, with `/p2p/<id>`. */
  get addresses (): readonly string[] { return this.#addresses }
  /** Whether its process runs. */
  get alive (): boolean { return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null }

  /** Starts its process and its node, joining through `bootstrap`. */
  async start (bootstrap: readonly string[]): Promise<StartTimes> {
    const spawned = performance.now()
    const child = this.#lab.spawn(this.index, WORKER, ['--conditions=development', ...this.#nodeOptions], [])
    this.#child = child
    this.#listen(child)
    const pid = await new Promise<number>((resolve, reject) => {
      const guard = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`peer ${this.index}: no hello in 120 s`)) }, 120_000)
      child.once('message', (message: { hello?: number }) => { clearTimeout(guard); resolve(Number(message.hello)) })
      child.once('exit', (code) => { clearTimeout(guard); reject(new Error(`peer ${this.index} exited at start (${String(code)})`)) })
    })
    const loaded = performance.now()
    const place: PeerPlace = await this.#lab.attach(this.index, pid)
    const { id, addresses } = await this.request('start', { dataDir: this.dataDir, place, bootstrap }) as { id: string, addresses: string[] }
    this.#id = id
    this.#addresses = addresses
    return { loadMs: loaded - spawned, nodeMs: performance.now() - loaded }
  }

  /** Asks its process; rejects with its error, or if it exits or does not answer in time. */
  async request (method: string, arg?: unknown, boundMs = REQUEST_BOUND_MS): Promise<unknown> {
    const child = this.#child
    if (child === undefined || !this.alive) throw new Error(`peer ${this.index} is not running (${method})`)
    const id = this.#next++
    return await new Promise((resolve, reject) => {
      const guard = setTimeout(() => {
        this.#waiting.delete(id)
        reject(new Error(`peer ${this.index}: no answer to ${method} in ${boundMs} ms`))
      }, boundMs)
      this.#waiting.set(id, {
        resolve: (value) => { clearTimeout(guard); resolve(value) },
        reject: (error) => { clearTimeout(guard); reject(error) }
      })
      child.send({ id, method, arg })
    })
  }

  /** SIGKILL: the peer is gone at once, as a device that loses power or network. */
  async kill (): Promise<void> {
    const child = this.#child
    if (child === undefined || !this.alive) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  /** Closes its databases and node, then its process ends (killed if it takes over 15 s). */
  async close (): Promise<void> {
    const child = this.#child
    if (child === undefined || !this.alive) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    await this.request('close', undefined, 15_000).catch(() => {})
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000)
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
      if (this.#child !== child) return
      for (const w of this.#waiting.values()) w.reject(new Error(`peer ${this.index} exited`))
      this.#waiting.clear()
    })
  }
}
