import type { Entry } from './entry.ts'

/**
 * The documents of one collection's records kept in memory: least recently
 * used first, at most `size` of them. Beyond it the least recently used
 * are destroyed, except those pinned (handed out by `doc(id)`), busy (their
 * record's lock is held) or with updates not yet stored.
 */
export class DocCache {
  readonly #entries = new Map<string, Entry>()
  readonly #size: number
  readonly #busy: (id: string) => boolean

  constructor (size: number, busy: (id: string) => boolean) {
    this.#size = size
    this.#busy = busy
  }

  /** The cached entry of `id`, now the most recently used. */
  use (id: string): Entry | undefined {
    const entry = this.#entries.get(id)
    if (entry !== undefined) {
      this.#entries.delete(id)
      this.#entries.set(id, entry)
    }
    return entry
  }

  /** The cached entry of `id`, its place unchanged. */
  peek (id: string): Entry | undefined {
    return this.#entries.get(id)
  }

  /** Caches an entry as the most recently used, then trims the cache to its size (that entry stays). */
  add (entry: Entry): void {
    this.#entries.set(entry.id, entry)
    if (this.#entries.size <= this.#size) return
    for (const [id, cached] of this.#entries) {
      if (this.#entries.size <= this.#size) break
      if (cached === entry || cached.pinned || this.#busy(id) || cached.pending.length > 0 || cached.unstored.length > 0 || cached.storing > 0) continue
      this.evict(id)
    }
  }

  /** Destroys the cached document of `id` (a pinned one only if `force`). */
  evict (id: string, force = false): void {
    const entry = this.#entries.get(id)
    if (entry === undefined || (entry.pinned && !force)) return
    this.#entries.delete(id)
    entry.doc.destroy()
  }

  /** Destroys every cached document. */
  clear (): void {
    for (const entry of this.#entries.values()) entry.doc.destroy()
    this.#entries.clear()
  }
}
