/**
 * Storage faults, a damaged file in a data directory: CURRENT emptied or
 * deleted, the manifest overwritten, a table cut short, LevelDB's log or
 * the journal damaged before its end. levelStorage refuses the directory
 * with StorageCorruptionError (every time, until it is dealt with), or sets
 * it aside and begins empty; a node peer does the latter, says so, and
 * catch-up from another peer gives it every record back.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { createDatabase, type Database } from '@kadmium/core'
import { databaseDirectoryName, levelStorage, type NodePeer, type StorageDamagedEvent } from '@kadmium/node'
import { z } from 'zod'
import { DAMAGES, type Damage } from './fixtures/damage.ts'
import { PeerSandbox, waitFor } from './fixtures/peers.ts'

/** Writes `count` values of 1 KiB to a new directory and closes it; then opens and closes it again if the data should be in a table. */
async function fill (dir: string, where: Damage['data'], count = 300): Promise<void> {
  const storage = levelStorage(dir)
  for (let i = 0; i < count; i++) await storage.put(`k/${String(i).padStart(4, '0')}`, crypto.getRandomValues(new Uint8Array(1024)))
  await storage.close?.()
  if (where === 'table') await levelStorage(dir).close?.() // the opening makes LevelDB's log a table
}

/** The directories set aside beside `dir`. */
async function setAsideBeside (dir: string): Promise<string[]> {
  return (await readdir(dirname(dir))).filter((name) => name.startsWith(`${basename(dir)}.damaged-`))
}

describe('levelStorage: a damaged directory', () => {
  let root: string
  before(async () => { root = await mkdtemp(join(tmpdir(), 'kadmium-damaged-')) })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  for (const [n, kind] of DAMAGES.entries()) {
    test(`${kind.name}: refused with StorageCorruptionError, again at the next opening; set aside, the storage begins empty`, { timeout: 30_000 }, async () => {
      const dir = join(root, `case-${n}`)
      await fill(dir, kind.data)
      await kind.damage(dir)
      const tables = (await readdir(dir)).filter((name) => name.endsWith('.ldb'))

      for (const opening of ['first', 'second']) {
        const storage = levelStorage(dir)
        const error = await storage.get('k/0000').then(() => undefined, (e: unknown) => e)
        assert.ok(error instanceof Error, `the ${opening} opening refuses the directory`)
        assert.equal(error.name, 'StorageCorruptionError', error.message)
        assert.equal((error as Error & { location?: string }).location, dir)
        await assert.rejects(storage.put('k/new', new Uint8Array([1])), { name: 'StorageCorruptionError' })
        await storage.close?.()
      }
      assert.deepEqual(await setAsideBeside(dir), [], 'nothing is moved unless asked')

      const events: StorageDamagedEvent[] = []
      const storage = levelStorage(dir, { ifDamaged: 'set-aside', onDamaged: (event) => { events.push(event) } })
      assert.equal(await storage.get('k/0000'), undefined, 'the storage begins empty')
      assert.equal(events.length, 1)
      const event = events[0] as StorageDamagedEvent
      assert.equal(event.path, dir)
      assert.equal(event.error.name, 'StorageCorruptionError')
      assert.deepEqual(await setAsideBeside(dir), [basename(event.setAsideTo)])
      const setAside = await readdir(event.setAsideTo)
      assert.ok(setAside.includes('kadmium-damaged'), 'the directory set aside says what was wrong')
      for (const table of tables) assert.ok(setAside.includes(table), `the directory set aside keeps ${table}, for a salvage`)
      await storage.put('k/new', new Uint8Array([1]))
      await storage.close?.()
      const again = levelStorage(dir)
      assert.deepEqual(await again.get('k/new'), new Uint8Array([1]), 'the new directory is sound')
      await again.close?.()
    })
  }

  test('a clean close, and a reopening: no damage is found', { timeout: 30_000 }, async () => {
    const dir = join(root, 'sound')
    await fill(dir, 'table', 50)
    const storage = levelStorage(dir)
    assert.equal((await storage.get('k/0049'))?.length, 1024)
    await storage.close?.()
  })
})

const Note = z.object({ text: z.string(), n: z.number() })
const NOTES = 40
/** No periodic work: B catches up when it connects to A. */
const QUIET = { syncInterval: 600_000, discoveryInterval: 600_000 }

describe('nodePeer: a damaged database directory is set aside, reported, and refilled from a peer', { timeout: 240_000 }, () => {
  const sandbox = new PeerSandbox()
  const dbs: Database[] = []
  let source: Database
  let bootstrap: string
  const notes = new Map<string, { text: string, n: number }>()
  before(async () => {
    const a = await sandbox.peer('a')
    bootstrap = a.multiaddrs[0]?.toString() ?? ''
    source = await createDatabase({ name: 'damaged-notes', peer: a, replication: QUIET })
    dbs.push(source)
    const collection = source.collection('notes', { schema: Note })
    for (let n = 0; n < NOTES; n++) {
      const value = { text: `note ${n} `.repeat(40), n }
      notes.set(await collection.insert(value), value)
    }
  })
  after(async () => {
    await Promise.allSettled(dbs.splice(0).map(async (db) => db.close()))
    await sandbox.close()
  })

  /** Peer B on its data directory, its database open by address, and every note there once catch-up ran. */
  async function replica (dataDir: string, onPeer?: (peer: NodePeer) => void): Promise<{ peer: NodePeer, db: Database }> {
    const peer = await sandbox.peer(dataDir, { bootstrap: [bootstrap] })
    onPeer?.(peer)
    const db = await createDatabase({ address: source.address, peer, replication: QUIET, openTimeout: 30_000 })
    dbs.push(db)
    const collection = db.collection('notes', { schema: Note })
    await waitFor('every note on B', async () => await collection.count() === NOTES, 30_000)
    for (const [id, value] of notes) assert.deepEqual({ ...await collection.get(id, { network: false }) }, { id, ...value })
    return { peer, db }
  }

  for (const [n, kind] of DAMAGES.entries()) {
    test(kind.name, async () => {
      const name = `b-${n}`
      const first = await replica(name)
      await first.db.close()
      await first.peer.close()
      const dir = join(await sandbox.dir(name), 'databases', databaseDirectoryName('damaged-notes'))
      if (kind.data === 'table') await levelStorage(dir).close?.() // the opening makes LevelDB's log a table
      await kind.damage(dir)

      const events: StorageDamagedEvent[] = []
      const second = await replica(name, (peer) => { peer.on('damaged', (event) => { events.push(event) }) })
      assert.equal(events.length, 1, 'the damage is reported once')
      const event = events[0] as StorageDamagedEvent
      assert.equal(event.path, dir)
      assert.equal(event.error.name, 'StorageCorruptionError')
      assert.ok(existsSync(event.setAsideTo), 'the damaged directory is kept, beside')
      await second.db.close()
      await second.peer.close()
    })
  }
})
