/**
 * One soak peer's writes, at a steady rate: a mix of field updates (each
 * stamped with its send time, for receivers to time propagation), text
 * edits and records replaced (one inserted, the oldest deleted), on the
 * peer's own records only — so that the working set stays the same size
 * however long the run.
 * @module
 */
import * as Y from 'yjs'
import { RECORD_ROOT, type Collection, type CollectionInput, type CollectionType } from '@kadmium/core'
import type { Item } from '../chaos/chaos-node.ts'
import type { Random } from '../chaos/random.ts'

/** The soak's collection: the chaos run's records (a title as collaborative text, a flag, a number). */
export type Items = Collection<CollectionType<typeof Item>, CollectionInput<typeof Item>>

/** Records each peer keeps and edits all run long (their `n` is the send time of their last update). */
export const STABLE_RECORDS = 16
/** Records each peer keeps live while replacing them one by one. */
export const ROLLING_RECORDS = 4
/** Shares of the operations: field updates, text edits; the rest replace a record (an insert and a delete). */
const UPDATES = 0.78
const TEXT_EDITS = 0.2
/** Longest a title grows before edits also remove text. */
const TITLE_LENGTH = 60
/** Writes in flight at most: past it the peer cannot keep up, and the writes due are skipped (counted). */
const MAX_IN_FLIGHT = 64
/** How often the writer looks at what is due (ms). */
const TICK_MS = 10

/** The id of a peer's stable record `k`. */
export function stableId (peer: number, k: number): string {
  return `p${peer}-s${k}`
}

/** What the writer did since it was last asked. */
export interface WriterCounts {
  /** Writes acknowledged (a replacement counts two). */
  readonly writes: number
  /** Writes rejected, by error name. */
  readonly failed: Readonly<Record<string, number>>
  /** Writes due but not issued: {@link MAX_IN_FLIGHT} were in flight. */
  readonly skipped: number
}

/** A peer's writer: {@link prepare}, then {@link start} and {@link stop}. */
export class Writer {
  readonly #items: Items
  readonly #peer: number
  readonly #random: Random
  readonly #rolling: string[] = []
  #nextRolling = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  readonly #inFlight = new Set<Promise<void>>()
  #writes = 0
  #skipped = 0
  #failed: Record<string, number> = {}

  constructor (items: Items, peer: number, random: Random) {
    this.#items = items
    this.#peer = peer
    this.#random = random
  }

  /** Writes in flight now. */
  get inFlight (): number {
    return this.#inFlight.size
  }

  /** Makes the peer's stable records (those its storage lacks) and finds its rolling ones. */
  async prepare (): Promise<void> {
    for (let k = 0; k < STABLE_RECORDS; k++) {
      const id = stableId(this.#peer, k)
      if (await this.#items.get(id, { network: false }) === undefined) {
        await this.#items.insert({ title: `record ${id}`, done: false, n: Date.now() }, { id })
      }
    }
    const prefix = `p${this.#peer}-r`
    const mine = (await this.#items.find()).map((row) => row.id).filter((id) => id.startsWith(prefix))
    const seq = (id: string): number => Number(id.slice(prefix.length))
    this.#rolling.push(...mine.sort((a, b) => seq(a) - seq(b)))
    this.#nextRolling = this.#rolling.length === 0 ? 0 : seq(this.#rolling[this.#rolling.length - 1] as string) + 1
    while (this.#rolling.length < ROLLING_RECORDS) await this.#insertRolling()
  }

  /** Writes `perSecond` operations a second from now on, paced. */
  start (perSecond: number): void {
    this.#halt()
    const started = Date.now()
    let issued = 0
    const tick = (): void => {
      const due = Math.floor((Date.now() - started) * perSecond / 1000)
      for (; issued < due; issued++) {
        if (this.#inFlight.size >= MAX_IN_FLIGHT) {
          this.#skipped++
          continue
        }
        const op = this.#op().catch((error: unknown) => {
          const name = error instanceof Error ? error.name : 'Error'
          this.#failed[name] = (this.#failed[name] ?? 0) + 1
        }).finally(() => { this.#inFlight.delete(op) })
        this.#inFlight.add(op)
      }
      this.#timer = setTimeout(tick, TICK_MS)
    }
    tick()
  }

  /** Stops writing; resolves once the writes in flight have ended. */
  async stop (): Promise<void> {
    this.#halt()
    await Promise.all([...this.#inFlight])
  }

  /** The counts since the last call. */
  take (): WriterCounts {
    const counts = { writes: this.#writes, failed: this.#failed, skipped: this.#skipped }
    this.#writes = 0
    this.#skipped = 0
    this.#failed = {}
    return counts
  }

  #halt (): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  async #op (): Promise<void> {
    const roll = this.#random()
    const id = stableId(this.#peer, this.#random.int(STABLE_RECORDS))
    if (roll < UPDATES) {
      const stamp = Date.now()
      await this.#items.update(id, (item) => { item.n = stamp; item.done = !item.done })
      this.#writes++
    } else if (roll < UPDATES + TEXT_EDITS) {
      await this.#editTitle(id)
      this.#writes++
    } else {
      await this.#insertRolling()
      const oldest = this.#rolling.shift()
      if (oldest !== undefined) await this.#items.delete(oldest)
      this.#writes++
    }
  }

  /** Types a few letters at a random place of a title; past {@link TITLE_LENGTH}, removes as many. */
  async #editTitle (id: string): Promise<void> {
    const doc = await this.#items.doc(id)
    const text = doc.getMap(RECORD_ROOT).get('title')
    if (!(text instanceof Y.Text)) throw new Error(`the title of ${id} is not a Y.Text`)
    const letters = 'abcdefghijklmnopqrstuvwxyz'
    const typed = Array.from({ length: 1 + this.#random.int(3) }, () => this.#random.pick([...letters])).join('')
    doc.transact(() => {
      if (text.length + typed.length > TITLE_LENGTH) text.delete(this.#random.int(text.length - typed.length), typed.length)
      text.insert(this.#random.int(text.length + 1), typed)
    })
  }

  async #insertRolling (): Promise<void> {
    const id = `p${this.#peer}-r${this.#nextRolling++}`
    await this.#items.insert({ title: `record ${id}`, done: false, n: Date.now() }, { id })
    this.#rolling.push(id)
    this.#writes++
  }
}
