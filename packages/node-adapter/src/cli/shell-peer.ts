/**
 * The peer a shell command (`get`, `put`) runs for the time of one
 * command: on the data directory given, or on a temporary one removed
 * afterwards; it opens the database by address.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDatabase, type Database } from '@kadmium/core'
import { nodePeer, type NodePeer } from '../node-peer.ts'
import type { NetworkMode } from '../node-peer-options.ts'

/** How a shell command reaches the database. */
export interface ShellOptions {
  readonly address: string
  /** A data directory to run in (kept); none: a temporary one. */
  readonly dataDir?: string
  readonly bootstrap: readonly string[]
  readonly network: NetworkMode
  readonly openTimeout: number
}

/** A database opened for one command, and what closes it. */
export interface ShellDatabase {
  readonly db: Database
  readonly peer: NodePeer
  close (): Promise<void>
}

/** Starts a peer and opens the database by address (its manifest from the peers, or kept in `dataDir`). */
export async function openShell (options: ShellOptions): Promise<ShellDatabase> {
  const temporary = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'kadmium-shell-')) : undefined
  const dataDir = options.dataDir ?? temporary ?? ''
  const cleanup = async (): Promise<void> => {
    if (temporary !== undefined) await rm(temporary, { recursive: true, force: true })
  }
  let peer: NodePeer
  try {
    peer = await nodePeer({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: options.bootstrap, network: options.network, mdns: options.bootstrap.length === 0 })
  } catch (error) {
    await cleanup()
    throw error
  }
  try {
    const db = await createDatabase({ address: options.address, peer, openTimeout: options.openTimeout, replication: { discoveryInterval: 3_600_000 } })
    return {
      db,
      peer,
      close: async () => {
        await db.close()
        await peer.close()
        await cleanup()
      }
    }
  } catch (error) {
    await peer.close()
    await cleanup()
    throw error
  }
}

/**
 * Waits until a catch-up session with a peer has ended (the replica holds
 * what that peer had), or `timeoutMs`. Resolves whether one ended.
 */
export async function caughtUp (db: Database, timeoutMs: number): Promise<boolean> {
  if (db.status.lastSync !== undefined) return true
  return new Promise((resolve) => {
    const timer = setTimeout(() => { off(); resolve(false) }, timeoutMs)
    const off = db.on('sync', (event) => {
      if (event.phase !== 'done') return
      clearTimeout(timer)
      off()
      resolve(true)
    })
  })
}
