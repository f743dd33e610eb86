/**
 * The soak run's side of its processes: each honest peer (see
 * `soak-peer.ts`), started, asked, sampled, stopped or killed and started
 * again on its data directory; and the hostile peer (`hostile-peer.ts`).
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { Snapshot } from '../chaos/chaos-node.ts'
import type { PeerConfig, PeerMessage, PeerSample, Ready, Request, Retained } from './protocol.ts'

/** Longest a process may take to start, or to answer a request (ms): hang guards. */
const START_BOUND_MS = 120_000
const REQUEST_BOUND_MS = 180_000

/** Whether a child process has ended. */
function ended (child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

/** Ends a child: `SIGKILL` now, or after `graceMs` if it has not exited by itself. */
async function ending (child: ChildProcess, graceMs = 0): Promise<void> {
  if (ended(child)) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const guard = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(guard)
}

/** What a process printed, line by line, and how it ended if it was not asked to. */
export interface ProcessWatch {
  readonly output: (line: string) => void
  readonly unexpectedExit: (how: string) => void
}

/** Forks `script` with its JSON argument, passes on what it prints, and waits for its `{ ready }` message. */
async function start<T> (script: string, arg: unknown, watch: ProcessWatch): Promise<{ child: ChildProcess, ready: T }> {
  const child = fork(join(import.meta.dirname, script), [JSON.stringify(arg)], {
    execArgv: ['--conditions=development', '--expose-gc'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc']
  })
  for (const stream of [child.stdout, child.stderr]) {
    let rest = ''
    stream?.setEncoding('utf8')
    stream?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) watch.output(line)
    })
    stream?.on('end', () => { if (rest !== '') watch.output(rest) })
  }
  const ready = await new Promise<T>((resolve, reject) => {
    const guard = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${script} did not start in ${START_BOUND_MS} ms`)) }, START_BOUND_MS)
    const onMessage = (message: { ready?: T }): void => {
      if (message.ready === undefined) return
      clearTimeout(guard)
      child.off('message', onMessage)
      resolve(message.ready)
    }
    child.on('message', onMessage)
    child.once('exit', (code, signal) => { clearTimeout(guard); reject(new Error(`${script} exited at start (${String(code ?? signal)})`)) })
  })
  return { child, ready }
}

/** An honest soak peer in a process of its own; restarts keep its data directory (and so its key). */
export class PeerProcess {
  readonly index: number
  readonly #config: Omit<PeerConfig, 'bootstrap' | 'seed'>
  readonly #seed: number
  readonly #onSample: (index: number, incarnation: number, sample: PeerSample) => void
  readonly #watch: ProcessWatch
  #child: ChildProcess | undefined
  /** Whether the run asked it to end (close, kill): any other exit is a crash of its own. */
  #ending = false
  #ready: Ready | undefined
  /** How many times it started. */
  incarnation = 0
  #next = 0
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void, reject: (error: Error) => void }>()

  constructor (index: number, peers: readonly number[], root: string, seed: number, sampleMs: number, onSample: (index: number, incarnation: number, sample: PeerSample) => void, watch: ProcessWatch) {
    this.index = index
    this.#config = { index, peers, dir: join(root, `peer-${index}`), sampleMs }
    this.#seed = seed
    this.#onSample = onSample
    this.#watch = watch
  }

  /** Whether its process runs. */
  get up (): boolean {
    return this.#child !== undefined && !ended(this.#child)
  }

  /** What it said when it last started. */
  get ready (): Ready {
    if (this.#ready === undefined) throw new Error(`peer ${this.index} never started`)
    return this.#ready
  }

  /** Starts its process (again), dialing `bootstrap`. */
  async start (bootstrap: readonly string[]): Promise<Ready> {
    const incarnation = ++this.incarnation
    this.#ending = false
    const { child, ready } = await start<Ready>('soak-peer.ts', { ...this.#config, bootstrap, seed: this.#seed + incarnation } satisfies PeerConfig, this.#watch)
    this.#child = child
    this.#ready = ready
    child.on('message', (message: PeerMessage) => {
      if ('sample' in message) this.#onSample(this.index, incarnation, message.sample)
      else if ('id' in message) {
        const waiting = this.#waiting.get(message.id)
        this.#waiting.delete(message.id)
        if (message.error !== undefined) waiting?.reject(new Error(message.error))
        else waiting?.resolve(message.result)
      }
    })
    child.on('exit', (code, signal) => {
      for (const w of this.#waiting.values()) w.reject(new Error(`peer ${this.index} exited`))
      this.#waiting.clear()
      if (!this.#ending) this.#watch.unexpectedExit(`exited by itself (${signal ?? `code ${String(code)}`})`)
    })
    return ready
  }

  /** Writes `perSecond` operations a second from now on. */
  async load (perSecond: number): Promise<void> { await this.#request('load', perSecond) }
  /** Stops writing, once the writes in flight ended. */
  async stopLoad (): Promise<void> { await this.#request('stop-load') }
  /** Catches up with every connected peer now. */
  async sync (): Promise<void> { await this.#request('sync') }
  /** What it holds. */
  async snapshot (): Promise<Snapshot> { return await this.#request('snapshot') as Snapshot }
  /** Its memory after full GCs. */
  async memory (): Promise<Retained> { return await this.#request('memory') as Retained }

  /** Leaves: closes its database and node, and exits (killed if it takes over 20 s). */
  async close (): Promise<void> {
    const child = this.#child
    if (child === undefined || ended(child)) return
    this.#ending = true
    await this.#request('close').catch(() => {})
    await ending(child, 20_000)
  }

  /** Crashes: SIGKILL. */
  async kill (): Promise<void> {
    this.#ending = true
    if (this.#child !== undefined) await ending(this.#child)
  }

  async #request (method: Request['method'], arg?: unknown): Promise<unknown> {
    const child = this.#child
    if (child === undefined || ended(child)) throw new Error(`peer ${this.index} is down`)
    const id = this.#next++
    return await new Promise((resolve, reject) => {
      const guard = setTimeout(() => {
        this.#waiting.delete(id)
        reject(new Error(`peer ${this.index}: no answer to ${method} in ${REQUEST_BOUND_MS} ms`))
      }, REQUEST_BOUND_MS)
      this.#waiting.set(id, {
        resolve: (value) => { clearTimeout(guard); resolve(value) },
        reject: (error) => { clearTimeout(guard); reject(error) }
      })
      child.send({ id, method, arg } satisfies Request)
    })
  }
}

/** What the hostile peer reports every sample period. */
export interface HostileSample {
  readonly t: number
  /** Garbage messages published. */
  readonly sent: number
  /** Publishes that failed (or were not made: too many in flight). */
  readonly failed: number
}

/** The hostile peer's process. */
export class HostileProcess {
  readonly #child: ChildProcess
  #stopping = false

  private constructor (child: ChildProcess, watch: ProcessWatch) {
    this.#child = child
    child.on('exit', (code, signal) => { if (!this.#stopping) watch.unexpectedExit(`exited by itself (${signal ?? `code ${String(code)}`})`) })
  }

  /** Starts it flooding `address`'s topic at `perSecond` messages a second, dialing `targets`. */
  static async start (address: string, targets: readonly string[], perSecond: number, sampleMs: number, onSample: (sample: HostileSample) => void, watch: ProcessWatch): Promise<HostileProcess> {
    const { child } = await start<{ id: string }>('hostile-peer.ts', { address, targets, perSecond, sampleMs }, watch)
    child.on('message', (message: { sample?: HostileSample }) => { if (message.sample !== undefined) onSample(message.sample) })
    return new HostileProcess(child, watch)
  }

  /** Dials a peer (one that restarted). */
  dial (addresses: readonly string[]): void {
    if (!ended(this.#child)) this.#child.send({ dial: addresses })
  }

  /** Stops it (killed if it has not exited in 10 s). */
  async stop (): Promise<void> {
    if (ended(this.#child)) return
    this.#stopping = true
    this.#child.send({ stop: true })
    await ending(this.#child, 10_000)
  }
}
