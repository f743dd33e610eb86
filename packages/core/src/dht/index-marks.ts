/**
 * What a DHT read of a record tells the local collection index. A record's
 * DHT head carries its liveness (a state, or a tombstone), but the index
 * entry that lists the record, or its tombstone, is in another document
 * (the collection index), which a read by id does not fetch. So a record
 * found in the DHT is marked live, or deleted, in the local index here: by
 * a small index update of a client of this process's own (one per
 * collection), applied like a remote index update. A tombstone wins over
 * any live entry in the index, as everywhere.
 *
 * It also tells which records a local index update deletes, so that their
 * heads can be put as tombstones.
 * @module
 */
import * as Y from 'yjs'
import { DELETED_MAP, LIVE_MAP } from '../store/collection-index.ts'

/**
 * Marks records live or deleted in collection indexes, through documents
 * of one client per collection: each mark is an index update that
 * depends on the previous one of its collection, so marks are applied one
 * at a time, in order. A collection whose mark failed to apply starts
 * over with a new client.
 */
export class IndexMarks {
  readonly #apply: (collection: string, update: Uint8Array) => Promise<unknown>
  readonly #docs = new Map<string, Y.Doc>()
  #chain: Promise<unknown> = Promise.resolve()

  /** @param apply applies an index update of `collection` (as a remote one) */
  constructor (apply: (collection: string, update: Uint8Array) => Promise<unknown>) {
    this.#apply = apply
  }

  /**
   * Marks record `id` live (`live`) or deleted in the index of
   * `collection`, and resolves once the mark was applied. A record this
   * process marked so already is not marked again.
   */
  async mark (collection: string, id: string, live: boolean): Promise<void> {
    let doc = this.#docs.get(collection)
    if (doc === undefined) this.#docs.set(collection, doc = new Y.Doc())
    const map = doc.getMap<true>(live ? LIVE_MAP : DELETED_MAP)
    if (map.has(id)) return
    const before = Y.encodeStateVector(doc)
    map.set(id, true)
    const update = Y.encodeStateAsUpdate(doc, before)
    const applied = this.#chain.then(async () => await this.#apply(collection, update))
    this.#chain = applied.catch(() => {
      // Later marks of this client would wait for this one forever: start over.
      if (this.#docs.get(collection) === doc) this.#docs.delete(collection)
    })
    await applied
  }
}

/**
 * The ids an index update marks deleted for the first time (tombstones it
 * adds); `[]` if it does not decode.
 */
export function deletedIds (update: Uint8Array): string[] {
  // Every local index update comes here (an insert's too): most name no tombstone, which a byte search tells.
  if (!includes(update, DELETED_BYTES)) return []
  try {
    const ids: string[] = []
    for (const struct of Y.decodeUpdate(update).structs) {
      // A first tombstone of an id has no left neighbour: its decoded item names the map (a string, though
      // Yjs types `parent` as an integrated item's) and the key.
      if (struct instanceof Y.Item && (struct.parent as unknown) === DELETED_MAP && typeof struct.parentSub === 'string') ids.push(struct.parentSub)
    }
    return ids
  } catch {
    return []
  }
}

/** The tombstone map's name as a v1 update spells it (a first tombstone's item names it). */
const DELETED_BYTES = new TextEncoder().encode(DELETED_MAP)

/** Whether `needle` occurs in `haystack`. */
function includes (haystack: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0]
  for (let i = haystack.indexOf(first as number); i !== -1 && i + needle.length <= haystack.length; i = haystack.indexOf(first as number, i + 1)) {
    let j = 1
    while (j < needle.length && haystack[i + j] === needle[j]) j++
    if (j === needle.length) return true
  }
  return false
}

/** Whether the index state `index` (a full Yjs update of a collection index) holds a tombstone for `id`. */
export function isDeletedIn (index: Uint8Array, id: string): boolean {
  const doc = new Y.Doc()
  try {
    Y.applyUpdate(doc, index)
    return doc.getMap(DELETED_MAP).has(id)
  } finally {
    doc.destroy()
  }
}

/** The ids the index state `index` (a full Yjs update of a collection index) lists live: marked live, and not deleted. */
export function liveIdsIn (index: Uint8Array): string[] {
  const doc = new Y.Doc()
  try {
    Y.applyUpdate(doc, index)
    const deleted = doc.getMap(DELETED_MAP)
    return [...doc.getMap(LIVE_MAP).keys()].filter((id) => !deleted.has(id))
  } finally {
    doc.destroy()
  }
}
