/**
 * How a peer's changes enter a collection: record updates applied under
 * the record's lock (a record far behind is left to the catch-up its gap
 * asks for; bytes that do not decode change nothing), and collection
 * index updates, whose transitions show records as they become live or
 * deleted.
 * @module
 */
import { MalformedUpdateError } from '../errors.ts'
import type { BatchOperation } from '../storage/storage.ts'
import type { ApplyMeter } from './apply-meter.ts'
import type { CollectionIndex, Transition } from './collection-index.ts'
import { docDigest } from './digest.ts'
import { applyPeerUpdate, farBehind, hasFields, hasPending, newEntry, type Entry } from './entry.ts'
import { REMOTE_WRITE } from './origins.ts'
import { INDEX_LOCK, type CollectionRecords } from './records.ts'

/** Applies a Yjs update of record `id` from a peer (`meter` counts the computing). Resolves `true` if it changed anything. */
export async function applyRemoteRecord (records: CollectionRecords, id: string, update: Uint8Array, meter?: ApplyMeter): Promise<boolean> {
  const index = records.index ?? await records.ready
  return records.lock.run(id, async () => {
    if (index.isDeleted(id)) return false
    const cached = records.docs.use(id)
    const entry = cached ?? await records.entry(id)
    // An edit made through `doc(id)` and not yet committed (its commit waits for this lock) is this
    // replica's own: committed now, as a local write, before the peer's update joins the record.
    if (entry.pending.length > 0) await records.commitExternal(entry)
    // Live updates for a record far behind are left to the catch-up its gap asks for.
    if (meter !== undefined && farBehind(entry)) return meter.gap(records.name, id)
    meter?.start()
    const hadData = hasFields(entry)
    let changed = false
    try {
      changed = applyPeerUpdate(entry, update, REMOTE_WRITE)
    } catch (cause) {
      records.docs.evict(id, true)
      // Its live updates not yet stored went with the document: it shows what storage holds (catch-up brings the rest).
      if (records.unstored.drop(id)) await records.reannounce(id, 'remote')
      throw new MalformedUpdateError(`update for record "${id}" does not decode: ${String(cause)}`, { cause })
    } finally {
      meter?.stop()
    }
    // The peer's bytes are stored as sent (Yjs skips parts already here), also when they wait in Yjs for a missing update.
    const waiting = hasPending(entry.doc)
    entry.behind = waiting ? entry.behind + 1 : 0
    if (waiting) meter?.gap(records.name, id)
    if (!changed && !waiting) return cached === undefined && records.ctx.shared !== undefined ? await showStored(records, entry) : false
    entry.pending.push(update)
    await records.commit(entry, 'remote', hadData ? 'update' : 'insert', undefined, meter)
    return true
  })
}

/**
 * On storage other databases write at once, an update that changed nothing
 * in a record just read from storage was stored there by the database that
 * sent it (another tab): what storage holds is newer than what this one
 * showed, so it is shown. Resolves `true`.
 */
async function showStored (records: CollectionRecords, entry: Entry): Promise<boolean> {
  records.digests.set(entry.id, docDigest(entry.doc))
  const index = records.index as CollectionIndex
  await records.show(entry, index, 'update', 'remote', false)
  return true
}

/** A record a peer sent whole: its id and its stored updates. */
export type RemoteRecord = readonly [id: string, updates: readonly Uint8Array[]]

/** A record refused, and why. */
export interface Refusal {
  /** The record's id. */
  readonly id: string
  /** Why it was refused (a `MalformedUpdateError`, an `InvalidArgumentError` for a bad id). */
  readonly error: Error
}

/** What applying many records did, once they show. */
export interface AppliedRecords {
  /** Updates refused (they changed nothing). */
  readonly refused: readonly Refusal[]
  /** Resolves once every record applied is in storage (rejects if storing failed). */
  readonly stored: Promise<void>
}

/**
 * Applies records a peer sent whole (a catch-up's), many at once: those
 * this replica holds nothing of are built here and stored together in one
 * storage batch, under one lock; any other (held here, in use, sent twice,
 * waiting for an update not sent, or with bytes that do not decode) goes
 * update by update the way of {@link applyRemoteRecord}. Resolves once
 * every record shows (records new here are stored a moment later, so that
 * the next records from the peer show first).
 */
export async function applyRemoteRecords (records: CollectionRecords, items: readonly RemoteRecord[]): Promise<AppliedRecords> {
  const index = records.index ?? await records.ready
  const refused: Refusal[] = []
  const fresh: Entry[] = []
  const taken = new Set<string>()
  const others: RemoteRecord[] = []
  for (const item of items) {
    const [id, updates] = item
    if (index.isDeleted(id)) continue
    // (Checked with no await before the lock is taken below: nothing can take these records meanwhile.)
    if (taken.has(id) || records.lock.isHeld(id) || records.docs.peek(id) !== undefined || !records.digests.holdsNothing(id)) {
      others.push(item)
      continue
    }
    const entry = newEntry(records.keys, id)
    let changed = false
    try {
      for (const update of updates) changed = applyPeerUpdate(entry, update, REMOTE_WRITE) || changed
    } catch {
      // Bytes that do not decode: the one-by-one path refuses each such update alone.
      others.push(item)
      continue
    }
    if (hasPending(entry.doc)) {
      // It waits for an update the peer did not send: the one-by-one path keeps track of that.
      others.push(item)
      continue
    }
    if (!changed) continue
    entry.pending = [...updates]
    taken.add(id)
    fresh.push(entry)
  }
  let shown: () => void = () => {}
  const showing = new Promise<void>((resolve) => { shown = resolve })
  const stored = fresh.length === 0 ? Promise.resolve() : records.lock.runAll([...taken], async () => records.commitNew(fresh, shown))
  stored.catch(() => {}) // the caller awaits it
  const one = async ([id, updates]: RemoteRecord): Promise<void> => {
    for (const update of updates) {
      try {
        await applyRemoteRecord(records, id, update)
      } catch (error) {
        refused.push({ id, error: error as Error })
      }
    }
  }
  await Promise.all([fresh.length === 0 ? undefined : Promise.race([showing, stored]), ...others.map(one)])
  return { refused, stored }
}

/** Whether record `id` (without: the index) waits for an earlier update (a record not in memory may: a catch-up tells). */
export function waiting (records: CollectionRecords, id?: string): boolean {
  if (id === undefined) return records.index === undefined || hasPending(records.index.doc)
  const entry = records.docs.peek(id)
  return entry === undefined || hasPending(entry.doc)
}

/** Applies a Yjs update of the collection index from a peer. Resolves `true` if it changed anything. */
export async function applyRemoteIndex (records: CollectionRecords, update: Uint8Array, meter?: ApplyMeter): Promise<boolean> {
  const index = await records.ready
  const applied = await records.lock.run(INDEX_LOCK, async () => {
    let applied: { transitions: Transition[], changed: boolean }
    meter?.start()
    try {
      applied = index.applyRemote(update)
    } catch (cause) {
      meter?.stop()
      throw new MalformedUpdateError(`index update for "${records.name}" does not decode: ${String(cause)}`, { cause })
    }
    const { transitions, changed } = applied
    const ops: BatchOperation[] = []
    const gap = hasPending(index.doc)
    if (gap) meter?.gap(records.name)
    // (An update that waits in Yjs for a missing one is stored too, as sent.)
    const written = records.indexOps(index, ops, gap && !changed ? [update] : [])
    meter?.stop()
    if (written.keys.length === 0) return undefined
    // Queued in order, without holding the lock while storage commits: index updates meanwhile share the batch.
    const persisted = records.persist(ops)
    persisted.catch(() => {}) // awaited below
    index.updateKeys.push(...written.keys)
    return { transitions, updates: written.updates, persisted }
  })
  if (applied === undefined) return false
  const { transitions, updates, persisted } = applied
  await persisted
  for (const u of updates) records.ctx.onUpdate({ collection: records.name, target: 'index', update: u, origin: 'remote' })
  // Nothing here yet of a record that became live (its data comes later, as in a catch-up): its data shows it when it lands.
  const nothingOf = (id: string): boolean => records.docs.peek(id) === undefined && records.digests.holdsNothing(id)
  await Promise.all(transitions.map(async ({ id, live }) => live && !records.lock.isHeld(id) && nothingOf(id) ? undefined : records.lock.run(id, async () => {
    if (live) {
      if (nothingOf(id)) return
      const row = await records.read.row(id)
      if (row !== undefined) records.announce(id, await records.checks.of(row), 'insert', 'remote')
    } else {
      const ops = await records.dataDeletion(id)
      await records.persist(ops)
      records.docs.evict(id, true)
      records.announce(id, undefined, 'delete', 'remote')
    }
  })))
  return true
}
