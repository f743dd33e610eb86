/**
 * Random Yjs documents and edit sequences, for tests that must hold for
 * every update real Yjs writes: maps, arrays, formatted text, embeds, XML,
 * nested and subdocuments, deletes, concurrent peers, and updates in every
 * form Yjs produces them (`update` events, full states, diffs against a
 * state vector, merges, states with pending structs).
 */
import * as Y from 'yjs'

type Random = () => number

const WORDS = ['a', 'hello', 'wörld', '日本語', '😀 emoji', 'x'.repeat(40), '', 'é\u0301', '\ud83d\ude00\ud83d\ude01', '\ufeffbom']

function pick<T> (random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T
}

function int (random: Random, n: number): number {
  return Math.floor(random() * n)
}

/** A random value lib0's `writeAny` can store (nested up to `depth`). */
export function randomValue (random: Random, depth = 3): unknown {
  switch (int(random, depth > 0 ? 12 : 10)) {
    case 0: return null
    case 1: return random() < 0.5
    case 2: return int(random, 2 ** 31) * (random() < 0.5 ? -1 : 1)
    case 3: return random() * 1e6
    case 4: return pick(random, WORDS)
    case 5: return 2 ** 40 + int(random, 1000)
    case 6: return depth < 3 ? BigInt(int(random, 1e9)) * 1_000_000_000n : -0 // Yjs stores a bigint only inside an object or array
    case 7: return new Uint8Array(int(random, 20)).map(() => int(random, 256))
    case 8: return undefined
    case 9: return Math.fround(random())
    case 10: return Array.from({ length: int(random, 4) }, () => randomValue(random, depth - 1))
    default: return Object.fromEntries(Array.from({ length: int(random, 4) }, (_, i) => [`k${i}${pick(random, WORDS)}`, randomValue(random, depth - 1)]))
  }
}

function randomText (random: Random): string {
  return pick(random, WORDS.filter((w) => w !== '')) + (random() < 0.3 ? String(int(random, 1000)) : '')
}

/** One random edit of `doc`. */
export function randomEdit (doc: Y.Doc, random: Random): void {
  const map = doc.getMap('map')
  const array = doc.getArray<unknown>('array')
  const text = doc.getText('text')
  const xml = doc.getXmlFragment('xml')
  switch (int(random, 16)) {
    case 0: map.set(`key${int(random, 6)}`, randomValue(random)); break
    case 1: map.delete(`key${int(random, 6)}`); break
    case 2: array.insert(int(random, array.length + 1), Array.from({ length: 1 + int(random, 4) }, () => randomValue(random) ?? null)); break // Y.Array refuses a bare undefined
    case 3: if (array.length > 0) { const at = int(random, array.length); array.delete(at, 1 + int(random, array.length - at)) } break
    case 4: text.insert(int(random, text.length + 1), randomText(random), random() < 0.4 ? { bold: true, color: pick(random, ['red', null]) } : undefined); break
    case 5: if (text.length > 0) { const at = int(random, text.length); text.delete(at, 1 + int(random, Math.min(5, text.length - at))) } break
    case 6: if (text.length > 0) { const at = int(random, text.length); text.format(at, 1 + int(random, text.length - at), { italic: random() < 0.5 ? true : null }) } break
    case 7: text.insertEmbed(int(random, text.length + 1), { image: pick(random, WORDS) }); break
    case 8: { const nested = new Y.Map<unknown>(); nested.set('inner', randomValue(random)); map.set(`nested${int(random, 3)}`, nested); break }
    case 9: { const nested = new Y.Array<unknown>(); nested.push([randomValue(random) ?? null]); array.insert(0, [nested]); break }
    case 10: {
      const nested = map.get('nested0')
      if (nested instanceof Y.Map) nested.set(`deep${int(random, 3)}`, new Y.Text(randomText(random)))
      break
    }
    case 11: {
      const el = new Y.XmlElement(pick(random, ['p', 'div', 'span']))
      el.setAttribute('class', randomText(random))
      el.insert(0, [new Y.XmlText(randomText(random))])
      xml.insert(int(random, xml.length + 1), [el])
      break
    }
    case 12: if (xml.length > 0) xml.delete(int(random, xml.length), 1); break
    case 13: if (random() < 0.3) map.set('subdoc', new Y.Doc({ meta: { kind: 'sub' } })); break
    case 14: doc.getMap(`root${int(random, 3)}`).set('x', int(random, 10)); break
    default: {
      // a burst of sequential typing, merged by Yjs into few structs
      const n = 1 + int(random, 30)
      for (let i = 0; i < n; i++) text.insert(text.length, String.fromCharCode(97 + int(random, 26)))
    }
  }
}

/** Updates produced by a random session of `peers` documents editing concurrently and syncing now and then. */
export function randomSession (random: Random, opts: { peers?: number, steps?: number } = {}): Uint8Array[] {
  const peers = opts.peers ?? 1 + int(random, 3)
  const steps = opts.steps ?? 5 + int(random, 40)
  const docs = Array.from({ length: peers }, () => new Y.Doc({ gc: random() < 0.7 }))
  const out: Uint8Array[] = []
  const events: Uint8Array[][] = docs.map(() => [])
  docs.forEach((doc, i) => doc.on('update', (update: Uint8Array) => { out.push(update); events[i]?.push(update) }))
  for (let s = 0; s < steps; s++) {
    const doc = pick(random, docs)
    if (random() < 0.3) doc.transact(() => { for (let k = 0; k < 1 + int(random, 5); k++) randomEdit(doc, random) })
    else randomEdit(doc, random)
    if (peers > 1 && random() < 0.2) {
      const a = pick(random, docs)
      const b = pick(random, docs)
      if (a !== b) {
        out.push(Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
        Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
      }
    }
  }
  for (const doc of docs) {
    out.push(Y.encodeStateAsUpdate(doc))
    out.push(Y.encodeStateAsUpdate(doc, Y.encodeStateVector(docs[0] as Y.Doc)))
  }
  const first = events[0] ?? []
  if (first.length > 1) {
    out.push(Y.mergeUpdates(first))
    // a state with pending structs: every second update is missing, the rest waits
    const pending = new Y.Doc()
    first.forEach((u, i) => { if (i % 2 === 1) Y.applyUpdate(pending, u) })
    out.push(Y.encodeStateAsUpdate(pending))
    pending.destroy()
  }
  for (const doc of docs) doc.destroy()
  return out
}
