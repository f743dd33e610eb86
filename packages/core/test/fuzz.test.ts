/**
 * Seeded fuzzing of the decoders that read bytes from the network: the
 * gossip envelope (`decodeEnvelope` + `openEnvelope`) and the catch-up
 * protocol (`decodeSyncMessage`, `decodeItems`, `decodeBigPart`). Inputs
 * are valid samples mutated (bit flips, truncation, insertion, deletion,
 * CBOR type swaps, huge lengths) and random CBOR values. Every input must
 * either decode or throw a `KadmiumError` subclass — never another
 * exception. Each decoder's slowest call and the run's time are printed,
 * not asserted (a busy machine makes any time limit flaky); a call that
 * hangs still fails the test at its timeout.
 *
 * The seed is printed; `FUZZ_SEED=<seed>` replays a run, `FUZZ_ITERATIONS`
 * changes its length.
 */
import assert from 'node:assert/strict'
import { concatBytes } from '../src/util/bytes.ts'
import { test } from 'node:test'
import { encode } from 'cborg'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { KadmiumError } from '../src/errors.ts'
import { decodeEnvelope, encodeEnvelope, openEnvelope } from '../src/sync/envelope.ts'
import { decodeBigPart, decodeItems, decodeSyncMessage, encodeSyncMessage, type SyncMessage } from '../src/sync/sync-messages.ts'
import { signerOf } from '../src/access/identity.ts'
import { prng } from './helpers/random.ts'

const given = process.env.FUZZ_SEED
const SEED = given !== undefined && given !== '' ? Number(given) : Math.floor(Math.random() * 2 ** 31)
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 20_000)
const ADDRESS = 'bafyreifuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuz'

type Random = () => number

const int = (random: Random, n: number): number => Math.floor(random() * n)
const bytes = (random: Random, n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(random, 256))
const pick = <T> (random: Random, list: readonly T[]): T => list[int(random, list.length)] as T

/** CBOR headers that announce huge lengths: byte/text strings, arrays and maps with an 8- or 4-byte length. */
const HUGE = [
  [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x7b, 0, 0, 0, 1, 0, 0, 0, 0], [0x9b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
  [0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x5a, 0xff, 0xff, 0xff, 0xff], [0x9a, 0x7f, 0xff, 0xff, 0xff], [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
]

/** One random mutation of `input`. */
function mutate (random: Random, input: Uint8Array): Uint8Array {
  const out = input.slice()
  const at = int(random, Math.max(1, out.length))
  switch (int(random, 9)) {
    case 0: // flip a bit
      if (out.length > 0) out[at] = (out[at] as number) ^ (1 << int(random, 8))
      return out
    case 1: // set a byte
      if (out.length > 0) out[at] = int(random, 256)
      return out
    case 2: // truncate
      return out.slice(0, at)
    case 3: // insert random bytes
      return concat(out.subarray(0, at), bytes(random, 1 + int(random, 16)), out.subarray(at))
    case 4: // delete a range
      return concat(out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + int(random, 16))))
    case 5: // duplicate a chunk
      return concat(out.subarray(0, at), out.subarray(at, at + 1 + int(random, 32)), out.subarray(at))
    case 6: // swap a CBOR major type (the top three bits of a byte)
      if (out.length > 0) out[at] = ((out[at] as number) & 0x1f) | (int(random, 8) << 5)
      return out
    case 7: // a huge length
      return concat(out.subarray(0, at), Uint8Array.from(pick(random, HUGE)), out.subarray(at + 1))
    default: // several at once
      return mutate(random, mutate(random, mutate(random, out)))
  }
}

function concat (...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts)
}

/** Map keys of decoded messages. */
const KEYS = ['t', 'v', 'db', 'n', 'p', 'c', 'i', 'r', 'y', 's', 'reason', 'constructor', 'length']
/** Keys that change how a decoded object behaves: cborg makes `__proto__` its prototype. */
const HOSTILE_KEYS = ['toString', 'valueOf', '__proto__']

/** A random CBOR-able value; its maps use `keys`. */
function randomValue (random: Random, keys: readonly string[], depth = 0): unknown {
  switch (int(random, depth > 3 ? 6 : 9)) {
    case 0: return int(random, 2) === 0 ? int(random, 300) - 20 : random() * 1e20
    case 1: return pick(random, ['h', 'o', 'e', 'd', 'D', 'p', 'u', 'b', 'x', '', 'todos', 'z'.repeat(int(random, 600))])
    case 2: return bytes(random, pick(random, [0, 1, 15, 16, 17, 32, 63, 64, 65, 300]))
    case 3: return pick(random, [null, true, false, undefined])
    case 4: return -int(random, 2 ** 31)
    case 5: return Number.MAX_SAFE_INTEGER + int(random, 3)
    case 6: return Array.from({ length: int(random, 6) }, () => randomValue(random, keys, depth + 1))
    default: {
      const object: Record<string, unknown> = {}
      for (let k = int(random, 6); k > 0; k--) Object.defineProperty(object, pick(random, keys), { value: randomValue(random, keys, depth + 1), enumerable: true, configurable: true, writable: true })
      if (int(random, 2) === 0) object.t = pick(random, ['h', 'o', 'e', 'd', 'D', 'p', 'u', 'b', 'x'])
      return object
    }
  }
}

interface Outcome {
  calls: number
  decoded: number
  slowest: number
  /** The iteration of the slowest call (FUZZ_SEED replays it). */
  slowestAt: number
}

/** Inputs that threw something else than a KadmiumError, by decoder and error (the first input of each kept). */
const failures = new Map<string, string>()

/**
 * Runs `call`; anything thrown must be a KadmiumError (else the input is
 * kept, with what it takes to replay it). Counts the call and its time.
 */
async function expectSafe (name: string, input: Uint8Array, iteration: number, outcome: Outcome, call: () => unknown): Promise<void> {
  const started = performance.now()
  try {
    await call()
    outcome.decoded++
  } catch (error) {
    if (!(error instanceof KadmiumError)) {
      const kind = `${name} threw ${(error as Error).name}: ${(error as Error).message}`
      if (!failures.has(kind)) failures.set(kind, `iteration ${iteration}, input ${Buffer.from(input).toString('hex').slice(0, 2000)}`)
    }
  } finally {
    const ms = performance.now() - started
    outcome.calls++
    if (ms > outcome.slowest) {
      outcome.slowest = ms
      outcome.slowestAt = iteration
    }
  }
}

test(`fuzzing the envelope and catch-up decoders (seed ${SEED})`, { timeout: 60_000 }, async () => {
  console.log(`# fuzz seed: ${SEED} (replay with FUZZ_SEED=${SEED}); ${ITERATIONS} iterations`)
  const random = prng(SEED)
  const signer = signerOf(await generateKeyPair('Ed25519'))
  // (The decoders do not apply updates: any bytes stand for one.)
  const update = bytes(random, 30)

  const envelopes = [
    await encodeEnvelope([{ collection: 'todos', target: 'record', id: 'r1', update }], signer, { address: ADDRESS }),
    await encodeEnvelope([{ collection: 'todos', target: 'index', update }, { collection: 'notes', target: 'record', id: 'n', update: bytes(random, 200) }], signer, { address: ADDRESS }),
    await encodeEnvelope([{ collection: 'todos', target: 'record', id: 'hint' }], signer, { address: ADDRESS }),
    encode([2, signer.publicKey, bytes(random, 64), encode([Date.now(), 7, bytes(random, 40)])]) // sealed entries
  ]
  const syncMessages: SyncMessage[] = [
    { t: 'h', v: 2, db: ADDRESS, n: bytes(random, 16) },
    { t: 'h', v: 2, db: ADDRESS, n: bytes(random, 16), p: bytes(random, 60) },
    { t: 'o', n: bytes(random, 16) },
    { t: 'e', reason: 'unknown database' },
    { t: 'd', c: 'todos', i: { sv: bytes(random, 5), hash: bytes(random, 8) }, r: [['a', { sv: bytes(random, 4), hash: bytes(random, 8) }], ['b', { sv: bytes(random, 1), hash: bytes(random, 8) }]] },
    { t: 'D' },
    { t: 'p', n: 42 },
    { t: 'u', y: encode([['todos', 'a', [update]], ['todos', null, [update, update]]]), s: bytes(random, 64) },
    { t: 'b', y: encode(['todos', 'big', 0, 3, bytes(random, 100)]), s: bytes(random, 64) },
    { t: 'x' }
  ]
  const syncSamples = syncMessages.map(encodeSyncMessage)
  const itemSamples = [encode([['todos', 'a', [update]], ['todos', null, [update, update]]]), encode([]), encode([['c', 'id', []]])]
  const partSamples = [encode(['todos', 'big', 0, 3, bytes(random, 100)]), encode(['todos', null, 31, 32, new Uint8Array(0)])]

  // The samples themselves decode (so that mutations start from valid input).
  for (const e of envelopes.slice(0, 3)) await openEnvelope(decodeEnvelope(e), { address: ADDRESS })
  for (const s of syncSamples) decodeSyncMessage(s)
  for (const s of itemSamples) decodeItems(s)
  for (const s of partSamples) decodeBigPart(s)

  const outcome = { envelope: { calls: 0, decoded: 0, slowest: 0, slowestAt: -1 }, sync: { calls: 0, decoded: 0, slowest: 0, slowestAt: -1 }, payload: { calls: 0, decoded: 0, slowest: 0, slowestAt: -1 } }
  const started = Date.now()
  for (let i = 0; i < ITERATIONS; i++) {
    const kind = i % 4
    if (kind === 0) {
      const input = mutate(random, pick(random, envelopes))
      await expectSafe('decodeEnvelope/openEnvelope', input, i, outcome.envelope, async () => openEnvelope(decodeEnvelope(input), { address: ADDRESS }))
    } else if (kind === 1) {
      const input = mutate(random, pick(random, syncSamples))
      await expectSafe('decodeSyncMessage', input, i, outcome.sync, () => decodeSyncMessage(input))
    } else if (kind === 2) {
      // A random CBOR value: a sync message, an envelope, a payload.
      const input = encode(randomValue(random, KEYS))
      await expectSafe('decodeSyncMessage (random CBOR)', input, i, outcome.sync, () => decodeSyncMessage(input))
      await expectSafe('decodeEnvelope (random CBOR)', input, i, outcome.envelope, async () => openEnvelope(decodeEnvelope(input), { address: ADDRESS }))
      await expectSafe('decodeItems (random CBOR)', input, i, outcome.payload, () => decodeItems(input))
    } else {
      const items = mutate(random, pick(random, itemSamples))
      await expectSafe('decodeItems', items, i, outcome.payload, () => decodeItems(items))
      const part = mutate(random, pick(random, partSamples))
      await expectSafe('decodeBigPart', part, i, outcome.payload, () => decodeBigPart(part))
    }
  }
  const ms = Date.now() - started
  for (const [name, o] of Object.entries(outcome)) console.log(`# fuzz ${name}: ${o.calls} calls, ${o.decoded} decoded, slowest ${o.slowest.toFixed(1)} ms (iteration ${o.slowestAt})`)
  console.log(`# fuzz: ${ITERATIONS} iterations in ${ms} ms`)
  assert.deepEqual([...failures].map(([kind, where]) => `${kind} (${where})`), [], `seed ${SEED} (FUZZ_SEED=${SEED} replays)`)
})

test('CBOR maps with keys named __proto__, toString or valueOf: still only KadmiumErrors', () => {
  const random = prng(SEED)
  const proto = (value: unknown): Record<string, unknown> => Object.defineProperty({}, '__proto__', { value, enumerable: true })
  const inputs = [
    encode({ t: 'o', n: proto(new Uint8Array(16)) }),
    encode({ t: { toString: 1 } }),
    encode([2, proto(new Uint8Array(32)), new Uint8Array(64), new Uint8Array(0)]),
    ...Array.from({ length: 2000 }, () => encode(randomValue(random, [...KEYS, ...HOSTILE_KEYS])))
  ]
  const thrown = new Set<string>()
  for (const input of inputs) {
    for (const decoder of [decodeSyncMessage, decodeEnvelope, decodeItems, decodeBigPart]) {
      try {
        decoder(input)
      } catch (error) {
        if (!(error instanceof KadmiumError)) thrown.add(`${decoder.name}: ${(error as Error).name}: ${(error as Error).message}`)
      }
    }
  }
  assert.deepEqual([...thrown], [])
})
