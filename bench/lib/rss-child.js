// @ts-check
/**
 * The measuring process of the RSS scenario (`bench/scenarios/rss.ts`):
 * plain JavaScript on compiled Kadmium (`dist/`, what an app runs), so that
 * the process holds no TypeScript loader (Node's type stripping alone
 * holds some 30 MB). `node --expose-gc rss-child.js <kadmium|baseline> <json-arg>`
 * prints one result line (the protocol of `isolate.ts`).
 *
 * Memory is read after a memory-reducing full GC (what V8's memory reducer
 * runs in an idle app): a plain `gc()` leaves the pages of a young
 * generation grown to 64 MB pooled, and they count in RSS until then.
 * @module
 */
import { fstatSync } from 'node:fs'

/** Marks the result line (`RESULT_MARK` of isolate.ts). */
const RESULT_MARK = '@@kadmium-bench-result '
const MB = 1024 * 1024

/** @typedef {{ rssMB: number, heapUsedMB: number, externalMB: number }} MemoryReading */
/** @typedef {{ dir: string, records: number, query: { where: Record<string, unknown>, orderBy: string, limit: number }, prefix: string, prefixEnd: string, root: string }} RssArgs */

/** Collects garbage as V8 does when it reduces memory, then reads memory. @returns {Promise<MemoryReading>} */
async function settledMemory () {
  const gc = /** @type {(options?: object) => void} */ (globalThis.gc)
  gc()
  await new Promise((resolve) => setImmediate(resolve))
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
  const m = process.memoryUsage()
  return { rssMB: m.rss / MB, heapUsedMB: m.heapUsed / MB, externalMB: (m.external + m.arrayBuffers) / MB }
}

/** The largest RSS this process has had, in MB. */
function peakRssMB () {
  return process.resourceUsage().maxRSS / 1024
}

/** Opens the Kadmium database at `dir` (the bench's todo schema), reads every record and runs the query. @param {RssArgs} args */
async function kadmium ({ dir, records, query }) {
  const { createDatabase } = await import('@kadmium/core')
  const { levelStorage } = await import('@kadmium/node/level')
  const { z } = await import('zod')
  // The schema of bench/lib/fixtures.ts.
  const schema = z.object({ title: z.string(), done: z.boolean(), priority: z.number().int().min(0).max(4) })
  const before = await settledMemory()
  const db = await createDatabase({ name: 'bench', storage: levelStorage(dir) })
  const todos = db.collection('todos', { schema })
  const all = await todos.find()
  const open = await todos.find(query)
  if (all.length !== records || open.length === 0) throw new Error(`read ${all.length} records, expected ${records}`)
  const after = await settledMemory()
  const result = { before, after, peakRssMB: peakRssMB(), records: all.length }
  await db.close()
  return result
}

/** Opens the baseline LevelDB at `dir`, decodes every record into a kept `Y.Doc` plus a plain row, and runs the query. @param {RssArgs} args */
async function baseline ({ dir, records, query, prefix, prefixEnd, root }) {
  const { ClassicLevel } = await import('classic-level')
  const Y = await import('yjs')
  const before = await settledMemory()
  const db = new ClassicLevel(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  const docs = new Map()
  /** @type {Array<Record<string, unknown>>} */
  const rows = []
  for await (const [key, bytes] of db.iterator({ gte: prefix, lt: prefix + prefixEnd })) {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, bytes)
    docs.set(key.slice(prefix.length), doc)
    rows.push({ ...doc.getMap(root).toJSON(), id: key.slice(prefix.length) })
  }
  const [field, value] = Object.entries(query.where)[0] ?? []
  const order = query.orderBy
  const open = rows.filter((r) => field === undefined || r[field] === value)
    .sort((a, b) => String(a[order]) < String(b[order]) ? -1 : String(a[order]) > String(b[order]) ? 1 : 0)
    .slice(0, query.limit)
  if (rows.length !== records || docs.size !== records || open.length === 0) throw new Error(`read ${rows.length} records, expected ${records}`)
  const after = await settledMemory()
  const result = { before, after, peakRssMB: peakRssMB(), records: rows.length }
  await db.close()
  return result
}

// Do not outlive the parent: it holds the other end of stdin.
const stdin = fstatSync(0)
if (stdin.isFIFO() || stdin.isSocket()) {
  process.stdin.on('end', () => { process.exit(4) })
  process.stdin.resume()
  process.stdin.unref()
}
const [which, json] = process.argv.slice(2)
const run = which === 'kadmium' ? kadmium : which === 'baseline' ? baseline : undefined
if (run === undefined || json === undefined) throw new Error('usage: rss-child.js <kadmium|baseline> <json-arg>')
process.stdout.write(RESULT_MARK + JSON.stringify(await run(JSON.parse(json))) + '\n')
process.exit(0)
