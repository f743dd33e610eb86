/**
 * The peers of a scale run together: started in waves (100 processes
 * starting at once would each wait for the CPU), asked all at once, read
 * for their usage, waited on for a condition, closed.
 * @module
 */
import type { Lab } from './lab.ts'
import { ScalePeer, type StartTimes } from './peers.ts'
import type { Usage } from './scale-node.ts'

/** How often a condition is polled while waiting (ms). */
const POLL_MS = 1000

/** The run's peers. */
export class Swarm {
  readonly lab: Lab
  readonly root: string
  readonly peers: ScalePeer[] = []
  /** How many started at once. */
  readonly wave: number
  /** Node.js options of the peers' processes. */
  readonly nodeOptions: readonly string[]
  /** Why the run was stopped (see {@link stop}), if it was. */
  stopped: string | undefined

  constructor (lab: Lab, root: string, wave: number, nodeOptions: readonly string[] = []) {
    this.lab = lab
    this.root = root
    this.wave = Math.max(1, wave)
    this.nodeOptions = nodeOptions
  }

  /** Peers whose process runs. */
  get live (): ScalePeer[] {
    return this.peers.filter((p) => p.alive)
  }

  /** Adds and starts peers `from`..`to`-1, `wave` at a time, joining through `bootstrap`; resolves their start times. */
  async add (from: number, to: number, bootstrap: () => readonly string[]): Promise<StartTimes[]> {
    if (this.stopped !== undefined) throw new Error(`the run was stopped: ${this.stopped}`)
    const added: ScalePeer[] = []
    for (let i = from; i < to; i++) added.push(new ScalePeer(this.lab, i, this.root, this.nodeOptions))
    this.peers.push(...added)
    return await this.inWaves(added, async (peer) => await peer.start(bootstrap()))
  }

  /** Runs `fn` on each of `items`, `wave` at a time. */
  async inWaves<T, R> (items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = []
    for (let i = 0; i < items.length; i += this.wave) {
      results.push(...await Promise.all(items.slice(i, i + this.wave).map(fn)))
    }
    return results
  }

  /** Every live peer's usage, by peer id. */
  async usage (): Promise<Map<string, Usage>> {
    const live = this.live
    const all = await Promise.all(live.map(async (p) => await p.request('usage').catch(() => undefined) as Usage | undefined))
    const byPeer = new Map<string, Usage>()
    live.forEach((p, i) => { const u = all[i]; if (u !== undefined) byPeer.set(p.id, u) })
    return byPeer
  }

  /**
   * Polls `check` until it holds or `boundMs` passed; resolves how long it
   * took (ms), or undefined if it never held.
   */
  async until (check: () => Promise<boolean>, boundMs: number): Promise<number | undefined> {
    const started = performance.now()
    while (performance.now() - started < boundMs) {
      if (await check()) return performance.now() - started
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
    return undefined
  }

  /** Stops the run at once: every peer killed (what it was asked fails), no peer started any more. */
  async stop (why: string): Promise<void> {
    this.stopped ??= why
    await Promise.all(this.peers.map(async (p) => { await p.kill() }))
  }

  /** Closes every peer (their databases, nodes and processes), `wave` at a time, then kills any left. */
  async close (): Promise<void> {
    await this.inWaves(this.peers, async (p) => { await p.close().catch(() => {}) })
    await Promise.all(this.peers.map(async (p) => { await p.kill() }))
  }
}
