import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import * as Y from 'yjs'
import { checkUpdate, DEFAULT_UPDATE_LIMITS, inspectUpdate } from '../../src/guard/update-guard.ts'
import { prng, seedFromEnv } from '../helpers/random.ts'
import { randomSession } from '../helpers/random-docs.ts'

// --- building crafted updates by hand -------------------------------------

/** lib0's unsigned varint (LEB128), for any safe integer; `bytes` forces a longer encoding. */
function vu (n: number, bytes = 0): number[] {
  const out: number[] = []
  do {
    const low = n % 128
    n = Math.floor(n / 128)
    out.push(n > 0 || out.length + 1 < bytes ? low | 0x80 : low)
  } while (n > 0 || out.length < bytes)
  return out
}

function str (s: string): number[] {
  const b = new TextEncoder().encode(s)
  return [...vu(b.length), ...b]
}

function u8 (...parts: Array<number | number[]>): Uint8Array {
  return Uint8Array.from(parts.flat())
}

/** One client section holding one item of content ref `ref` in the root type `name`, then an empty delete set. */
function oneItem (ref: number, content: number[], opts: { client?: number, name?: string, info?: number } = {}): Uint8Array {
  return u8(1, 1, vu(opts.client ?? 5), 0, opts.info ?? ref, 1, str(opts.name ?? 'root'), content, 0)
}

function rejects (update: Uint8Array, why: RegExp, limits?: Parameters<typeof checkUpdate>[1]): void {
  assert.throws(() => checkUpdate(update, limits), (error: Error) => {
    assert.equal(error.name, 'MalformedUpdateError')
    assert.match(error.message, why) // messages are for people; this only shows the right rule fired
    return true
  })
}

/** Passes, or throws MalformedUpdateError — never anything else. */
function passesOrMalformed (update: Uint8Array): boolean {
  try {
    checkUpdate(update)
    return true
  } catch (error) {
    assert.equal((error as Error).name, 'MalformedUpdateError', `unexpected ${String(error)}`)
    return false
  }
}

const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url))

/** Runs `Y.mergeUpdatesV2([empty, bytes])` (or another call) in a child process; whether it finished within `ms`. */
function finishesInChild (call: string, hex: string, ms: number): boolean {
  const script = `import * as Y from 'yjs'
const buf = Uint8Array.from(Buffer.from('${hex}', 'hex'))
try { ${call} } catch {}
process.stdout.write('done')`
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, timeout: ms, encoding: 'utf8' })
  return result.status === 0 && result.stdout === 'done'
}

// --- accepting what Yjs writes ----------------------------------------------

describe('checkUpdate accepts every update real Yjs writes', () => {
  test('200 random sessions: update events, full states, diffs, merges, states with pending structs', () => {
    const seed = seedFromEnv()
    const random = prng(seed)
    let updates = 0
    for (let session = 0; session < 200; session++) {
      for (const update of randomSession(random)) {
        updates++
        assert.doesNotThrow(() => checkUpdate(update), `seed ${seed} (KADMIUM_SEED=${seed} replays), session ${session}: ${Buffer.from(update).toString('hex')}`)
      }
    }
    assert.ok(updates > 5000, `only ${updates} updates`)
  })

  test('the smallest updates: an empty document, a diff with nothing new', () => {
    const doc = new Y.Doc()
    checkUpdate(Y.encodeStateAsUpdate(doc))
    doc.getText('t').insert(0, 'hi')
    checkUpdate(Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc)))
    assert.deepEqual(inspectUpdate(Y.encodeStateAsUpdate(new Y.Doc())), { clients: 0, structs: 0, deleteClients: 0, deletes: 0 })
  })

  test('subdocuments, XML hooks and fragments, every value type, deletes of everything', () => {
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    const map = doc.getMap<unknown>('m')
    map.set('sub', new Y.Doc({ meta: { a: 1 }, autoLoad: true }))
    map.set('values', { n: -(2 ** 31), f: 0.5, big: [2n ** 63n - 1n, -(2n ** 63n)], s: '\u0000\ud7ff\ue000\u{10ffff}', b: new Uint8Array([1, 2]), u: [undefined, null, true, false], deep: { a: { b: { c: [[[]]] } } } })
    map.set('bin', new Uint8Array(300))
    const xml = doc.getXmlFragment('x')
    // Yjs's types allow only elements and text here; hooks and fragments work too
    xml.insert(0, [new Y.XmlHook('hook') as unknown as Y.XmlElement, new Y.XmlElement('p'), new Y.XmlFragment() as unknown as Y.XmlElement])
    doc.getText('t').insert(0, 'x'.repeat(5000), { b: true })
    doc.getText('t').delete(10, 4000)
    map.clear()
    xml.delete(0, xml.length)
    updates.push(Y.encodeStateAsUpdate(doc))
    for (const u of updates) checkUpdate(u)
  })

  test('a 1 MiB update with 50,000 structs is walked (linear work, no timing asserted)', () => {
    const doc = new Y.Doc()
    const map = doc.getMap<unknown>('m')
    const text = doc.getText('t')
    doc.transact(() => {
      for (let i = 0; i < 40_000; i++) map.set(`key-${i}`, { i, s: 'value' })
      for (let i = 0; i < 10_000; i++) text.insert(Math.floor(text.length / 2), 'ab', i % 2 === 0 ? { bold: true } : {})
      text.insert(0, 'é'.repeat(100_000))
    })
    const update = Y.encodeStateAsUpdate(doc)
    assert.ok(update.length > 1024 * 1024, `${update.length} bytes`)
    const stats = inspectUpdate(update)
    assert.ok(stats.structs >= 50_000, `${stats.structs} structs`)
  })
})

// --- rejecting the rest -----------------------------------------------------

describe('checkUpdate rejects malformed and hostile updates with MalformedUpdateError', () => {
  test('random bytes: never anything but MalformedUpdateError, and almost never accepted', () => {
    const seed = seedFromEnv()
    const random = prng(seed)
    let accepted = 0
    for (let i = 0; i < 5000; i++) {
      const bytes = new Uint8Array(Math.floor(random() * 200)).map(() => Math.floor(random() * 256))
      if (passesOrMalformed(bytes)) accepted++
    }
    assert.ok(accepted < 50, `seed ${seed}: ${accepted} random byte strings accepted`)
    rejects(new Uint8Array(0), /unexpected end/)
    rejects('not bytes' as unknown as Uint8Array, /Uint8Array/)
  })

  test('every truncation and every one-byte change of real updates: passes or MalformedUpdateError, never hangs', () => {
    const random = prng(seedFromEnv())
    const samples = [...randomSession(random, { peers: 2, steps: 30 }), ...randomSession(random, { peers: 3, steps: 10 })]
    for (const update of samples.slice(0, 40)) {
      for (let end = 0; end < update.length; end++) passesOrMalformed(update.subarray(0, end))
      for (let at = 0; at < Math.min(update.length, 64); at++) {
        for (const b of [0x00, 0x01, 0x7f, 0x80, 0xff, update[at] as number ^ 0x40]) {
          const changed = Uint8Array.from(update)
          changed[at] = b
          passesOrMalformed(changed)
        }
      }
    }
  })

  test('huge declared counts and lengths are refused before anything is allocated', () => {
    rejects(u8(vu(2 ** 40), 0), /number of clients/)
    rejects(u8(1, vu(2 ** 32 - 1), 5, 0, 0, 1, 0), /number of structs/)
    rejects(u8(1, 1, 5, 0, 4, 1, vu(2 ** 50)), /root type name/) // a 2^50-byte name
    rejects(oneItem(4, vu(2 ** 40)), /text/) // a 2^40-byte string
    rejects(oneItem(8, vu(2 ** 31)), /values/) // ContentAny of 2^31 values
    rejects(oneItem(8, [1, 118, ...vu(2 ** 31)]), /object size/)
    rejects(oneItem(8, [1, 117, ...vu(2 ** 31)]), /array length/)
    rejects(oneItem(3, vu(2 ** 33)), /binary/)
    rejects(u8(0, 1, 5, vu(2 ** 30), 0, 1), /number of deletes/)
    rejects(u8(vu(2 ** 53 + 2)), /out of range|longer/)
    rejects(u8(Array(9).fill(0x81), 0), /longer than 8 bytes/)
    rejects(u8(Array(150).fill(0x80), 0), /longer than 8 bytes/) // lib0 itself would read NaN here
    rejects(u8(0, 0), /x/, { maxBytes: 1 })
    rejects(u8(1, 2, 5, 0, 0, 1, 0, 1, 0), /more than 1 structs/, { maxStructs: 1 })
    rejects(u8(0, 1, 5, 2, 0, 1, 4, 1, 0), /more than 1 delete/, { maxDeletes: 1 })
  })

  test('lengths and clocks beyond the limits: GC and skip ranges, deleted content, delete ranges', () => {
    rejects(u8(1, 1, 5, 0, 0, vu(2 ** 50), 0), /exceeds/) // a GC range of 2^50 clocks
    rejects(u8(1, 1, 5, 0, 10, vu(2 ** 41), 0), /exceeds/)
    rejects(oneItem(1, vu(2 ** 41)), /exceeds/)
    rejects(u8(1, 1, 5, vu(2 ** 41), 0, 1, 0), /first clock/)
    rejects(u8(0, 1, 5, 1, vu(2 ** 40 - 1), 2), /ends beyond/)
    rejects(u8(1, 1, vu(2 ** 32), 0, 0, 1, 0), /client .* exceeds/)
    rejects(u8(0, 1, vu(2 ** 33), 1, 0, 1), /client .* exceeds/)
    checkUpdate(u8(1, 1, vu(2 ** 32), 0, 0, 1, 0), { maxClientId: Number.MAX_SAFE_INTEGER })
  })

  test('structures Yjs never writes: zero lengths, unknown tags, bad flags, self-references, duplicates, trailing bytes', () => {
    rejects(u8(1, 1, 5, 0, 0, 0, 0), /length 0/) // empty GC range
    rejects(oneItem(4, str('')), /length 0/) // empty string
    rejects(oneItem(8, [0]), /length 0/) // no values
    rejects(u8(1, 1, 5, 0, 0x40 | 0, 1, 0), /flags/)
    rejects(oneItem(11, []), /unknown content type 11/)
    rejects(oneItem(31, []), /unknown content type/)
    rejects(oneItem(7, [9]), /unknown type 9/)
    rejects(oneItem(8, [1, 115]), /unknown value tag 115/)
    rejects(u8(1, 1, 5, 0, 8, 2, 1, 126, 0), /parent info 2/)
    rejects(u8(1, 1, 5, 3, 0x80 | 8, 5, 3, 1, 126, 0), /origin 5:3 is not before/) // refers to itself
    rejects(u8(1, 1, 5, 3, 0x40 | 8, 5, 9, 1, 126, 0), /right origin 5:9 is not before/) // to a later struct
    rejects(u8(1, 1, 5, 3, 8, 0, 5, 4, 1, 126, 0), /parent 5:4 is not before/)
    rejects(u8(2, 1, 5, 0, 0, 1, 1, 5, 1, 0, 1, 0), /appears twice/)
    rejects(u8(0, 2, 5, 1, 0, 1, 5, 1, 3, 1), /appears twice/)
    rejects(u8(0, 1, 5, 1, 0, 0), /length 0/)
    rejects(u8(0, 0, 0), /after the delete set/)
    rejects(oneItem(9, [...str('guid'), 126]), /options are not an object/)
    rejects(oneItem(5, str('{nope')), /not JSON/)
    rejects(oneItem(5, [4, 0xef, 0xbb, 0xbf, 0x31]), /not JSON/) // a BOM Yjs's decoder keeps
    rejects(oneItem(6, [...str('bold'), ...str('')]), /not JSON/)
    rejects(oneItem(2, [1, ...str('{')]), /not JSON/)
    checkUpdate(oneItem(2, [2, ...str('undefined'), ...str('[1]')])) // legacy ContentJSON
  })

  test('invalid UTF-8 in names, text and values', () => {
    for (const bad of [[0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff]]) {
      rejects(oneItem(4, [bad.length, ...bad]), /UTF-8/)
      rejects(u8(1, 1, 5, 0, 4, 1, bad.length, bad, str('x'), 0), /UTF-8/)
      rejects(oneItem(8, [1, 119, bad.length, ...bad]), /UTF-8/)
    }
    checkUpdate(oneItem(4, str('\u{10ffff}€a')))
  })

  test('values nested deeper than maxDepth', () => {
    const nested = (depth: number): number[] => [...Array.from({ length: depth }, () => [117, 1]).flat(), 126] // [[[...null]]]
    checkUpdate(oneItem(8, [1, ...nested(DEFAULT_UPDATE_LIMITS.maxDepth)]))
    rejects(oneItem(8, [1, ...nested(DEFAULT_UPDATE_LIMITS.maxDepth + 1)]), /nested deeper/)
    rejects(oneItem(8, [1, ...nested(100_000)]), /nested deeper/) // lib0 would recurse 100,000 deep
    rejects(oneItem(8, [1, ...nested(5)]), /nested deeper/, { maxDepth: 4 })
  })

  test('overlapping delete ranges (each would walk every struct of the client: quadratic in Yjs)', () => {
    const doc = new Y.Doc()
    doc.clientID = 7
    doc.transact(() => { for (let i = 0; i < 100; i++) doc.getMap('m').set(`k${i}`, i) })
    checkUpdate(Y.encodeStateAsUpdate(doc))
    const ranges = (n: number): number[] => Array.from({ length: n }, () => [0, 100]).flat()
    checkUpdate(u8(0, 1, 7, 1, ranges(1)))
    rejects(u8(0, 1, 7, vu(1000), ranges(1000)), /overlap or are out of order/)
    rejects(u8(0, 1, 7, 2, 50, 10, 0, 10), /overlap or are out of order/)
    checkUpdate(u8(0, 1, 7, 2, 0, 10, 10, 10)) // adjacent is fine
  })

  test('yjs#687: crafted bytes that hang Y.mergeUpdatesV2 are refused at once', () => {
    // The reproduction from https://github.com/yjs/yjs/issues/687: in V2 a
    // run-length stream that runs out repeats its last value forever, so a
    // declared struct count of ~2^32 never runs out of input.
    const hex = '00010000000001000100010200001602000001fdffffffff7f0000'
    // Read as V1, these bytes are an empty update followed by garbage, which
    // Y.applyUpdate silently ignores; the guard refuses the garbage.
    rejects(Uint8Array.from(Buffer.from(hex, 'hex')), /after the delete set/)
    // The V1 analogue, a tiny update declaring 2^32 - 1 structs, is refused from its count.
    rejects(u8(1, vu(2 ** 32 - 1), 5, 0, 0, 1), /number of structs/)
  })

  test('yjs#687 raw: Y.mergeUpdatesV2 on those bytes does not finish in a child process (killed after 3 s)', () => {
    const call = 'Y.mergeUpdatesV2([Y.encodeStateAsUpdateV2(new Y.Doc()), buf])'
    const harmless = Buffer.from(Y.encodeStateAsUpdateV2(new Y.Doc())).toString('hex')
    assert.equal(finishesInChild(call, harmless, 10_000), true, 'the child finishes with a harmless update')
    assert.equal(finishesInChild(call, '00010000000001000100010200001602000001fdffffffff7f0000', 3_000), false, 'raw Yjs hangs on the crafted bytes')
  })
})

describe('limits', () => {
  test('DEFAULT_UPDATE_LIMITS is frozen and partial limits fall back to it', () => {
    assert.ok(Object.isFrozen(DEFAULT_UPDATE_LIMITS))
    const doc = new Y.Doc()
    doc.getMap('m').set('abc', 'x'.repeat(100))
    const update = Y.encodeStateAsUpdate(doc)
    checkUpdate(update, { maxStructs: 1 })
    rejects(update, /exceeds the limit/, { maxBytes: update.length - 1 })
    rejects(update, /client .* exceeds/, { maxClientId: doc.clientID - 1 })
    rejects(update, /map key/, { maxKeyBytes: 2 })
  })
})
