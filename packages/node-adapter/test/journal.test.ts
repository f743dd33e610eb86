/**
 * LevelDB storage's write-ahead journal: the frame format, damaged files,
 * and writes of a process killed before LevelDB had them.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { appendFile, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, test } from 'node:test'
import type { BatchOperation } from '@kadmium/core'
import { levelStorage } from '@kadmium/node/level'
import { decodeFrames, encodeFrame, readJournal } from '../src/journal.ts'

const FIXTURE = join(import.meta.dirname, 'fixtures', 'journal-process.ts')

const batches: BatchOperation[][] = [
  [{ type: 'put', key: 'a', value: new Uint8Array([1, 2, 3]) }, { type: 'del', key: 'b' }],
  [{ type: 'put', key: 'ключ/🔑', value: new Uint8Array(0) }],
  [{ type: 'del', key: '' }, { type: 'put', key: 'z', value: new Uint8Array(300).fill(7) }]
]

function fileOf (list: BatchOperation[][]): Uint8Array {
  return Buffer.concat(list.map((ops) => encodeFrame(ops).bytes))
}

describe('the journal format', () => {
  test('batches of puts and deletes read back in order, values intact', () => {
    const read = decodeFrames(fileOf(batches))
    assert.equal(read.complete, true)
    assert.deepEqual(read.batches, batches)
  })

  test('a file cut anywhere reads back as the whole frames before the cut', () => {
    const bytes = fileOf(batches)
    const ends = [0, ...batches.map((_, i) => fileOf(batches.slice(0, i + 1)).length)]
    for (let cut = 0; cut <= bytes.length; cut++) {
      const read = decodeFrames(bytes.subarray(0, cut))
      const whole = ends.filter((end) => end <= cut).length - 1
      assert.deepEqual(read.batches, batches.slice(0, whole), `cut at ${cut}`)
      assert.equal(read.complete, ends.includes(cut), `cut at ${cut}`)
    }
  })

  test('a changed byte ends the reading at its frame', () => {
    const bytes = fileOf(batches)
    const second = encodeFrame(batches[0] as BatchOperation[]).bytes.length
    for (let at = second; at < second + encodeFrame(batches[1] as BatchOperation[]).bytes.length; at++) {
      const damaged = bytes.slice()
      damaged[at] = (damaged[at] as number) ^ 0x5a
      const read = decodeFrames(damaged)
      assert.deepEqual(read.batches, batches.slice(0, 1), `byte ${at}`)
      assert.equal(read.complete, false)
    }
  })

  test('files are read oldest first, and nothing after a damaged one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kadmium-journal-'))
    try {
      await writeFile(join(dir, 'kadmium-journal-10'), fileOf(batches.slice(2)))
      await writeFile(join(dir, 'kadmium-journal-2'), fileOf(batches.slice(0, 1)))
      await writeFile(join(dir, 'kadmium-journal-3'), fileOf(batches.slice(1, 2)))
      await writeFile(join(dir, 'kadmium-journal-x'), 'not a journal file')
      assert.deepEqual(readJournal(dir), batches)
      await appendFile(join(dir, 'kadmium-journal-3'), new Uint8Array([0, 0, 0, 9, 1]))
      assert.deepEqual(readJournal(dir), batches.slice(0, 2))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('levelStorage with its journal', () => {
  let root: string
  before(async () => { root = await mkdtemp(join(tmpdir(), 'kadmium-journal-')) })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  /** Runs the fixture: it writes, prints the values' digests and kills itself before LevelDB had the burst. */
  async function killedWriter (dir: string, count: number, size: number): Promise<string[]> {
    const run = promisify(execFile)(process.execPath, ['--conditions=development', FIXTURE, dir, String(count), String(size)], { timeout: 60_000 })
    const error = await run.then(() => undefined, (e: { signal?: string, stdout?: string }) => e)
    assert.equal(error?.signal, 'SIGKILL', 'the writer was killed')
    return JSON.parse(error.stdout as string) as string[]
  }

  test('writes resolved before the process was killed are all there after reopening, deletes too', { timeout: 90_000 }, async () => {
    const dir = join(root, 'killed')
    // 14 values of 512 KiB: more than one journal file (a new one begins past 4 MiB), and less
    // than writes wait for LevelDB at (8 MiB): the writer never yields to the event loop.
    const digests = await killedWriter(dir, 14, 512 * 1024)
    const files = (await readdir(dir)).filter((name) => name.startsWith('kadmium-journal-'))
    assert.ok(files.length >= 2, `the burst spans journal files: ${files.join(', ')}`)
    // A write the process began but never finished: a torn frame at the end.
    const last = files.sort((a, b) => Number(a.slice(16)) - Number(b.slice(16))).at(-1) as string
    await appendFile(join(dir, last), new Uint8Array([0, 1, 0, 0, 3, 3, 3]))

    const storage = levelStorage(dir)
    for (const [i, digest] of digests.entries()) {
      const value = await storage.get(`big/${i}`)
      assert.ok(value !== undefined, `big/${i} is there`)
      assert.equal(createHash('sha256').update(value).digest('hex'), digest, `big/${i} holds what was written`)
    }
    assert.equal(await storage.get('first'), undefined, 'the delete after the put was applied')
    const scanned: string[] = []
    for await (const [key] of storage.scan('big/', { keysOnly: true })) scanned.push(key)
    assert.equal(scanned.length, digests.length)
    // Once LevelDB has the journal's writes, the journal is deleted (and a new, empty one begun).
    const after = (await readdir(dir)).filter((name) => name.startsWith('kadmium-journal-'))
    assert.deepEqual(after, ['kadmium-journal-0'])
    assert.equal((await stat(join(dir, 'kadmium-journal-0'))).size, 0)
    await storage.close?.()
    assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('kadmium-journal-')), [], 'a closed storage leaves no journal')
  })

  test('reads see a write at once, and a flood waits for LevelDB instead of piling up', { timeout: 60_000 }, async () => {
    const storage = levelStorage(join(root, 'flood'))
    const value = new Uint8Array(1024 * 1024).fill(9)
    // 48 MiB on one tick: past the 8 MiB kept for LevelDB, writes wait for it.
    const writes = Array.from({ length: 48 }, async (_, i) => { await storage.put(`v/${String(i).padStart(2, '0')}`, value) })
    const del = storage.delete('v/00')
    assert.equal((await storage.get('v/47'))?.length, value.length)
    assert.equal(await storage.get('v/00'), undefined)
    await Promise.all([...writes, del])
    // settled(): LevelDB holds it all; of the journal's files (48 MiB: several), one is left, empty.
    await storage.settled?.()
    const files = (await readdir(join(root, 'flood'))).filter((name) => name.startsWith('kadmium-journal-'))
    assert.equal(files.length, 1, files.join(', '))
    assert.notEqual(files[0], 'kadmium-journal-0', 'the journal began new files')
    assert.equal((await stat(join(root, 'flood', files[0] as string))).size, 0)
    const keys: string[] = []
    for await (const [key, v] of storage.scan('v/')) {
      keys.push(key)
      assert.equal(v.length, value.length)
    }
    assert.equal(keys.length, 47)
    await storage.close?.()
  })
})
