/**
 * Storage faults, a full disk: a process under a file size limit of 1 MiB
 * (`ulimit -f`: writes past it fail with EFBIG, as they fail with ENOSPC on
 * a full disk) writes until LevelDB storage is refused room. The write
 * rejects with StorageFullError, reads go on, and a process with room finds
 * every write that resolved, intact.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, test } from 'node:test'
import { createDatabase } from '@kadmium/core'
import { levelStorage } from '@kadmium/node/level'
import { z } from 'zod'

const FIXTURE = join(import.meta.dirname, 'fixtures', 'full-disk-process.ts')
/** The file size limit of the writing process, in KiB (`ulimit -f`). */
const LIMIT_KIB = 1024

/** The bytes the fixture writes as value `i`. */
function fill (i: number, size: number): Uint8Array {
  return new Uint8Array(size).fill(i & 0xff)
}

interface Outcome { readonly ok: boolean, readonly name?: string, readonly cause?: string, readonly message?: string }

/** Runs the fixture in `mode` under the size limit; resolves with its report. */
async function fillUp (dir: string, mode: 'storage' | 'database'): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)('sh', ['-c', `ulimit -f ${LIMIT_KIB} && exec "$@"`, 'sh', process.execPath, '--conditions=development', FIXTURE, dir, mode], { timeout: 90_000 })
  return JSON.parse(stdout) as Record<string, unknown>
}

describe('storage faults: a full disk', () => {
  let root: string
  before(async () => { root = await mkdtemp(join(tmpdir(), 'kadmium-full-')) })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  test('levelStorage: a write with no room rejects with StorageFullError; reads go on; every resolved write survives', { timeout: 120_000 }, async () => {
    const dir = join(root, 'storage')
    const report = await fillUp(dir, 'storage')

    // A batch too large for the room left: refused whole, and the storage writes on once there is room.
    assert.equal((report.huge as Outcome).name, 'StorageFullError', JSON.stringify(report.huge))
    assert.equal((report.huge as Outcome).cause, 'EFBIG')
    assert.equal(report.hugeStored, false, 'nothing of the refused batch is stored')
    assert.deepEqual(report.afterHuge, { ok: true })
    // LevelDB's own log refused room: the writes that had resolved are kept, later writes are refused.
    const settled = report.settled as Outcome | undefined
    assert.equal(settled?.name, 'StorageFullError', JSON.stringify(report))
    assert.equal((report.nextPut as Outcome).name, 'StorageFullError')
    const acknowledged = report.acknowledged as number
    assert.ok(acknowledged > 10, `writes resolved before the disk was full: ${acknowledged}`)
    // Reads of everything that resolved, LevelDB's and what it lacks alike; then a clean close.
    assert.equal(report.lastRead, 16 * 1024)
    assert.deepEqual(report.scan, { ok: true })
    assert.equal(report.scanned, acknowledged)
    assert.deepEqual(report.close, { ok: true })

    // With room again (this process has no size limit): every write that resolved, intact.
    const storage = levelStorage(dir)
    for (let i = 0; i <= 10; i++) assert.deepEqual(await storage.get(`s/${i}`), fill(i, 1000), `s/${i}`)
    const keys: string[] = []
    for await (const [key, value] of storage.scan('f/')) {
      assert.deepEqual(value, fill(keys.length, 16 * 1024), key)
      keys.push(key)
    }
    assert.equal(keys.length, acknowledged)
    assert.equal(keys.at(-1), `f/${String(acknowledged - 1).padStart(4, '0')}`)
    assert.equal(await storage.get('huge/a'), undefined)
    assert.equal(await storage.get('f/late'), undefined, 'the write refused is not there')
    await storage.put('after', new Uint8Array([1]))
    await storage.settled?.()
    await storage.close?.()
  })

  test('a database: an insert with no room rejects, finds go on, every resolved insert survives', { timeout: 120_000 }, async () => {
    const dir = join(root, 'database')
    const report = await fillUp(dir, 'database')
    const insert = report.insert as Outcome
    // The adapter's StorageFullError (a StorageError) reaches the caller as it is.
    assert.equal(insert.name, 'StorageFullError', JSON.stringify(insert))
    const ids = report.ids as string[]
    assert.ok(ids.length > 10, `inserts resolved before the disk was full: ${ids.length}`)
    assert.deepEqual(report.find, { ok: true })
    assert.equal(report.found, ids.length)
    assert.equal(report.last, ids.length - 1)
    assert.deepEqual(report.close, { ok: true })

    const db = await createDatabase({ name: 'full', storage: levelStorage(dir) })
    try {
      const notes = db.collection('notes', { schema: z.object({ n: z.number(), text: z.string() }) })
      assert.equal(await notes.count(), ids.length)
      for (const [n, id] of ids.entries()) assert.equal((await notes.get(id))?.n, n, `note ${n}`)
      await notes.insert({ n: ids.length, text: 'room again' })
    } finally {
      await db.close()
    }
  })
})
