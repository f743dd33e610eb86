/**
 * Storage faults, a torn write: a process writing LevelDB storage without
 * end (journal appends, LevelDB batches) is killed with SIGKILL at seeded
 * moments, again and again in one directory. After each kill the directory
 * opens, every batch whose write resolved is there, and every batch is
 * there whole or not at all. `KADMIUM_SEED=<n>` replays a run.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, test } from 'node:test'
import { levelStorage } from '@kadmium/node/level'
import { decodeFrames } from '../src/journal.ts'
import { markerKey, seededRandom, valueKey, valueOf, valueSizes } from './fixtures/torn-batches.ts'

const WRITER = join(import.meta.dirname, 'fixtures', 'torn-writer-process.ts')
const SEED = process.env.KADMIUM_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.KADMIUM_SEED)
/** Kills, each followed by a check of the directory. */
const KILLS = 12
/** Longest a writer may take to write the batches it is killed after (ms). */
const WRITER_TIMEOUT = 60_000

const children = new Set<ChildProcess>()
let root: string | undefined
after(async () => {
  for (const child of children) child.kill('SIGKILL')
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

/**
 * Runs the writer and kills it `delayMs` after it has said `count` writes
 * resolved (the delay: a moment anywhere in its work, not just after a
 * write); resolves with the last batch it said resolved.
 */
async function killWriterAfter (dir: string, count: number, delayMs: number): Promise<number> {
  const child = spawn(process.execPath, ['--conditions=development', WRITER, dir, String(SEED)], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  let resolved = -1
  let seen = 0
  createInterface({ input: child.stdout }).on('line', (line) => {
    resolved = Math.max(resolved, Number(line))
    if (++seen === count) setTimeout(() => child.kill('SIGKILL'), delayMs)
  })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, WRITER_TIMEOUT)
  // 'close': the process is gone and its output read to the end (lines written before the kill count too).
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once('close', (_code, sig) => { resolve(sig) }))
  clearTimeout(timer)
  children.delete(child)
  assert.equal(signal, 'SIGKILL', `the writer died otherwise: ${stderr}`)
  assert.ok(seen >= count, `the writer was killed after ${seen} writes of ${count} (hang guard): ${stderr}`)
  return resolved
}

/** Whether the newest journal file ends in a frame cut short: the kill came in the middle of an append. */
async function journalTorn (dir: string): Promise<boolean> {
  const files = (await readdir(dir)).filter((name) => /^kadmium-journal-\d+$/.test(name))
  const newest = files.sort((a, b) => Number(a.slice(16)) - Number(b.slice(16))).at(-1)
  return newest !== undefined && !decodeFrames(await readFile(join(dir, newest))).complete
}

/** Opens the directory and checks it holds batches 0 to `next - 1` whole, nothing of later ones, and at least up to `resolved`. */
async function checkDirectory (dir: string, resolved: number): Promise<number> {
  const storage = levelStorage(dir)
  try {
    const stored = await storage.get('next')
    assert.ok(stored !== undefined, 'the directory holds the first batch')
    const next = Number(new TextDecoder().decode(stored))
    assert.ok(next > resolved, `every write resolved before the kill is there: batches up to ${next - 1}, ${resolved} resolved`)
    // Every value of every batch below `next`, in key order, and nothing else: no part of a later batch.
    let i = 0
    let j = 0
    let sizes = valueSizes(SEED, 0)
    for await (const [key, value] of storage.scan('b/')) {
      while (j === sizes.length) { i++; j = 0; sizes = valueSizes(SEED, i) }
      assert.ok(i < next, `${key} is there, of batch ${i} or later, but "next" says ${next}: a part of a batch`)
      assert.equal(key, valueKey(i, j), 'a value of a batch below "next" is missing')
      assert.deepEqual(value, valueOf(i, j, sizes[j] as number), `${key} holds what was written`)
      j++
    }
    assert.ok(i === next - 1 && j === sizes.length, `batch ${i} is cut short, or later batches below "next" (${next}) are missing`)
    const markers: string[] = []
    for await (const [key] of storage.scan('d/', { keysOnly: true })) markers.push(key)
    assert.deepEqual(markers, [markerKey(next - 1)], 'the deletes of each batch went with its puts')
    return next
  } finally {
    await storage.close?.()
  }
}

test('a writer killed at random moments: reopening works, resolved writes are there, batches whole or absent', { timeout: 300_000 }, async (t) => {
  t.diagnostic(`seed ${SEED} (KADMIUM_SEED=${SEED} replays the kill points)`)
  root = await mkdtemp(join(tmpdir(), 'kadmium-torn-'))
  const dir = join(root, 'db')
  const random = seededRandom(SEED)
  let torn = 0
  let batches = 0
  for (let kill = 0; kill < KILLS; kill++) {
    const resolved = await killWriterAfter(dir, 5 + Math.floor(random() * 60), random() * 10)
    if (await journalTorn(dir)) torn++
    batches = await checkDirectory(dir, resolved)
  }
  t.diagnostic(`${batches} batches written over ${KILLS} kills; ${torn} kill(s) cut a journal append short`)
})
