/**
 * IndexedDB storage's raw side: reads that apply the journal of batches
 * not yet folded (in the same transaction as the entries they read), and
 * the fold of that journal into the entries. Plain IndexedDB requests, for
 * reads of many entries in one request (`getAllRecords` where the browser
 * has it).
 * @module
 */

/** The object store of the entries, key → value. */
export const STORE = 'entries'
/** The object store of the batches not yet folded into {@link STORE}. */
export const JOURNAL = 'journal'

/** A batch in the journal: its operations in order, `[key, value]` a put, `[key]` a deletion. */
export type JournalBatch = Array<[string, Uint8Array] | [string]>

/** Resolves once a transaction completes; rejects if it fails. */
export async function completion (tx: IDBTransaction): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => { resolve() }
    const failed = (): void => { reject(tx.error ?? new DOMException('the transaction was aborted', 'AbortError')) }
    tx.onerror = failed
    tx.onabort = failed
  })
}

/** Reads `key`: its value in `entries`, with the journal's writes of it applied, in one transaction. */
export async function readKey (db: IDBDatabase, key: string): Promise<unknown> {
  return await new Promise((resolve, reject) => {
    const tx = db.transaction([STORE, JOURNAL], 'readonly')
    const failed = (): void => { reject(tx.error ?? new DOMException('the transaction was aborted', 'AbortError')) }
    tx.onerror = failed
    tx.onabort = failed
    const stored = tx.objectStore(STORE).get(key)
    const journal = tx.objectStore(JOURNAL).getAll()
    journal.onsuccess = () => {
      let value: unknown = stored.result
      for (const batch of journal.result as JournalBatch[]) {
        for (const op of batch) if (op[0] === key) value = op[1]
      }
      resolve(value)
    }
  })
}

/** What a scan round read: keys of `entries` and their values (none if keys only), and the journal's batches. */
export interface Round {
  readonly keys: string[]
  readonly values: unknown[] | undefined
  readonly journal: JournalBatch[]
}

/** The entries of a round with the journal's writes of keys that `within` accepts applied over them, in key order. */
export function applyJournal (round: Round, within: (key: string) => boolean): Array<[string, unknown]> {
  const { keys, values, journal } = round
  if (journal.length === 0) return keys.map((key, i) => [key, values?.[i]])
  const written = new Map<string, unknown>()
  for (const batch of journal) {
    for (const op of batch) if (within(op[0])) written.set(op[0], op.length === 2 ? op[1] : DELETED)
  }
  if (written.size === 0) return keys.map((key, i) => [key, values?.[i]])
  const merged = new Map<string, unknown>()
  keys.forEach((key, i) => { merged.set(key, values?.[i]) })
  for (const [key, value] of written) {
    if (value === DELETED) merged.delete(key)
    else merged.set(key, value)
  }
  return [...merged].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
}

/** A deletion, in {@link applyJournal}. */
const DELETED = Symbol('deleted')

/** Whether `key` is in `range` (every key if none). */
export function inRange (range: IDBKeyRange | undefined, key: string): boolean {
  return range === undefined || range.includes(key)
}

/** Applies every batch of the journal to `entries`, in order, and empties it, in one transaction. */
export async function foldJournal (db: IDBDatabase, durability: 'relaxed' | 'strict'): Promise<void> {
  const tx = db.transaction([STORE, JOURNAL], 'readwrite', { durability })
  const done = completion(tx)
  const journal = tx.objectStore(JOURNAL)
  const request = journal.getAll()
  request.onsuccess = () => {
    const batches = request.result as JournalBatch[]
    if (batches.length === 0) return
    const store = tx.objectStore(STORE)
    for (const batch of batches) {
      for (const op of batch) {
        if (op.length === 2) store.put(op[1], op[0])
        else store.delete(op[0])
      }
    }
    journal.clear()
  }
  await done
}

/** An object store with `getAllRecords` (keys and values in one request: Chromium 141 and later), where the browser has it. */
interface RecordsStore {
  getAllRecords?: (options: { query: IDBKeyRange | null, count: number }) => IDBRequest<Array<{ primaryKey: IDBValidKey, value: unknown }>>
}

/**
 * One round of a scan: up to `count` keys of `range` and (unless
 * `keysOnly`) their values, and the journal, in one read-only transaction;
 * resolves as soon as the results are in (the transaction then ends by itself).
 */
export async function readRound (db: IDBDatabase, range: IDBKeyRange | undefined, count: number, keysOnly: boolean): Promise<Round> {
  return await new Promise((resolve, reject) => {
    const tx = db.transaction([STORE, JOURNAL], 'readonly')
    const store = tx.objectStore(STORE)
    const failed = (): void => { reject(tx.error ?? new DOMException('the transaction was aborted', 'AbortError')) }
    tx.onerror = failed
    tx.onabort = failed
    const query = range ?? null
    const records = (store as RecordsStore).getAllRecords
    let read: () => Pick<Round, 'keys' | 'values'>
    if (keysOnly) {
      const request = store.getAllKeys(query, count)
      read = () => ({ keys: request.result as string[], values: undefined })
    } else if (records !== undefined) {
      const request = records.call(store, { query, count })
      read = () => {
        const result = request.result
        return { keys: result.map((r) => r.primaryKey as string), values: result.map((r) => r.value) }
      }
    } else {
      const keys = store.getAllKeys(query, count)
      const values = store.getAll(query, count)
      read = () => ({ keys: keys.result as string[], values: values.result })
    }
    // (Requests of a transaction succeed in order: the journal's comes last.)
    const journal = tx.objectStore(JOURNAL).getAll()
    journal.onsuccess = () => { resolve({ ...read(), journal: journal.result as JournalBatch[] }) }
  })
}
