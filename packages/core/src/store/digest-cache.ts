import { decodeDigest, type Digest } from './digest.ts'
import type { StorageAdapter } from '../storage/storage.ts'

/**
 * The digests of a collection's records in memory: read from storage by
 * one scan on first use (the first catch-up), then kept up to date by
 * every commit and delete.
 */
export class DigestCache {
  readonly #storage: StorageAdapter
  readonly #prefix: string
  #map: Map<string, Digest> | undefined
  #loading: Promise<Map<string, Digest>> | undefined
  /** The scan is over: the map holds every stored record. */
  #loaded = false
  /** Records whose stored digest does not decode: something is stored. */
  readonly #unreadable = new Set<string>()

  constructor (storage: StorageAdapter, prefix: string) {
    this.#storage = storage
    this.#prefix = prefix
  }

  /** Starts loaded and empty: the storage holds nothing of the collection yet (so no scan is needed, and no record's read). */
  startEmpty (): void {
    if (this.#loading !== undefined) return
    const map = new Map<string, Digest>()
    this.#map = map
    this.#loaded = true
    this.#loading = Promise.resolve(map)
  }

  /** Every stored digest, by record id. */
  async all (): Promise<ReadonlyMap<string, Digest>> {
    this.#loading ??= (async () => {
      const map = new Map<string, Digest>()
      this.#map = map
      for await (const [key, bytes] of this.#storage.scan(this.#prefix)) {
        const id = key.slice(this.#prefix.length)
        if (map.has(id)) continue // a commit during the scan set a newer one
        const digest = decodeDigest(bytes)
        if (digest !== undefined) map.set(id, { sv: digest.sv, hash: digest.hash })
        else this.#unreadable.add(id)
      }
      this.#loaded = true
      return map
    })()
    return this.#loading
  }

  /**
   * Whether nothing at all is stored for record `id`: `true` only once the
   * digests are loaded and `id` has none (every stored record has one),
   * so that a record arriving from a peer needs no storage read.
   */
  holdsNothing (id: string): boolean {
    return this.#loaded && this.#map?.has(id) === false && !this.#unreadable.has(id)
  }

  /** A record's new digest, once committed (kept only once loaded). */
  set (id: string, digest: Digest): void {
    this.#map?.set(id, digest)
  }

  /** What storage holds of a record is not known here any more (a write of it failed): its next load reads storage. */
  unknown (id: string): void {
    this.#map?.delete(id)
    this.#unreadable.add(id)
  }

  /** A record is gone. */
  delete (id: string): void {
    this.#map?.delete(id)
  }
}
