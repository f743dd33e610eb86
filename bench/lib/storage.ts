/**
 * The storage both sides of a comparison run on: Kadmium through the
 * LevelDB adapter `levelStorage(path)` of `@kadmium/node`, the baseline
 * straight on classic-level (the same LevelDB).
 *
 * `@kadmium/node` is imported by a computed specifier so that the harness
 * runs (and type-checks) before the adapter exists; until then it falls
 * back to `fallback-level-storage.ts`. Every report names the adapter used.
 * @module
 */
import { ClassicLevel } from 'classic-level'
import type { StorageAdapter } from '@kadmium/core'
import { fallbackLevelStorage } from './fallback-level-storage.ts'

/** Opens a Kadmium storage adapter on a LevelDB directory. */
export type StorageFactory = (path: string) => StorageAdapter | Promise<StorageAdapter>

/** The storage factory and a description of where it came from. */
export interface KadmiumStorage {
  readonly open: StorageFactory
  /** e.g. `levelStorage from @kadmium/node` */
  readonly source: string
}

let resolved: Promise<KadmiumStorage> | undefined

/** The LevelDB storage Kadmium runs on in the benchmarks. */
export function kadmiumStorage (): Promise<KadmiumStorage> {
  resolved ??= (async (): Promise<KadmiumStorage> => {
    const specifier: string = '@kadmium/node'
    let reason: string
    try {
      const mod: unknown = await import(specifier)
      const factory = (mod as { levelStorage?: unknown }).levelStorage
      if (typeof factory === 'function') {
        return { open: factory as StorageFactory, source: 'levelStorage from @kadmium/node' }
      }
      reason = '@kadmium/node has no levelStorage export'
    } catch (error) {
      reason = `@kadmium/node did not load (${(error as { code?: string }).code ?? String(error)})`
    }
    return { open: fallbackLevelStorage, source: `bench fallback LevelDB adapter (${reason})` }
  })()
  return resolved
}

/** Opens a Kadmium storage adapter on `path`. */
export async function openKadmiumStorage (path: string): Promise<StorageAdapter> {
  const { open } = await kadmiumStorage()
  return open(path)
}

/** The raw LevelDB the baseline writes to: utf8 keys, byte values, default options. */
export type RawLevel = ClassicLevel<string, Uint8Array>

/** Opens the baseline's LevelDB at `path`. */
export async function openRawLevel (path: string): Promise<RawLevel> {
  const db = new ClassicLevel<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  return db
}
