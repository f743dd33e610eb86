/**
 * The storage both sides of a comparison run on: Kadmium through the
 * LevelDB adapter `levelStorage(path)` of `@kadmium/node/level` (the entry
 * point that does not load libp2p), the baseline straight on classic-level
 * (the same LevelDB).
 * @module
 */
import { ClassicLevel } from 'classic-level'
import type { StorageAdapter } from '@kadmium/core'
import { levelStorage } from '@kadmium/node/level'

/** Opens a Kadmium storage adapter on a LevelDB directory. */
export type StorageFactory = (path: string) => StorageAdapter | Promise<StorageAdapter>

/** The storage factory and a description of where it came from. */
export interface KadmiumStorage {
  readonly open: StorageFactory
  /** e.g. `levelStorage from @kadmium/node/level` */
  readonly source: string
}

const LEVEL: KadmiumStorage = Object.freeze({ open: levelStorage, source: 'levelStorage from @kadmium/node/level' })

/** The LevelDB storage Kadmium runs on in the benchmarks. */
export async function kadmiumStorage (): Promise<KadmiumStorage> {
  return LEVEL
}

/** Opens a Kadmium storage adapter on `path`. */
export async function openKadmiumStorage (path: string): Promise<StorageAdapter> {
  return levelStorage(path)
}

/** The raw LevelDB the baseline writes to: utf8 keys, byte values, default options. */
export type RawLevel = ClassicLevel<string, Uint8Array>

/** Opens the baseline's LevelDB at `path`. */
export async function openRawLevel (path: string): Promise<RawLevel> {
  const db = new ClassicLevel<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  return db
}
