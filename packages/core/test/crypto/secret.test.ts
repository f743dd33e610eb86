/**
 * A database's secret: what seals opens with the same secret only, in the
 * same context only, byte for byte; names and key checks agree between
 * peers that hold the same secret and nowhere else.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DecryptionError, InvalidArgumentError } from '../../src/errors.ts'
import { deriveSecret, passphraseSalt, PBKDF2_ITERATIONS, SEAL_OVERHEAD, type DatabaseSecret, type EncryptionOptions } from '../../src/crypto/secret.ts'

const utf8 = new TextEncoder()
const EMPTY = new Uint8Array(0)
const key = crypto.getRandomValues(new Uint8Array(32))
const otherKey = crypto.getRandomValues(new Uint8Array(32))
const SALT = passphraseSalt('diary')

// Derived once each: a passphrase costs PBKDF2_ITERATIONS.
const secret = await deriveSecret({ key }, EMPTY)
const sameSecret = await deriveSecret({ key: key.slice() }, EMPTY)
const otherSecret = await deriveSecret({ key: otherKey }, EMPTY)
const fromPassphrase = await deriveSecret({ passphrase: 'correct horse battery staple' }, SALT)

function randomBytes (length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i += 65_536) crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65_536)))
  return out
}

function flipped (bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice()
  copy[at] = (copy[at] as number) ^ 0x01
  return copy
}

/** Positions worth tampering with: version, every IV byte, start, middle and end of the ciphertext, every tag byte. */
function samplePositions (length: number): number[] {
  const positions = new Set<number>()
  for (let i = 0; i < 14; i++) positions.add(i)
  positions.add(Math.floor(length / 2))
  for (let i = length - 17; i < length; i++) positions.add(i)
  return [...positions].filter((i) => i >= 0 && i < length).sort((a, b) => a - b)
}

describe('seal and open', () => {
  for (const [what, length] of [['empty', 0], ['small', 37], ['5 MiB', 5 * 1024 * 1024]] as const) {
    test(`round trip: ${what}`, async () => {
      const plaintext = randomBytes(length)
      const sealed = await secret.seal(plaintext)
      assert.equal(sealed.length, length + SEAL_OVERHEAD)
      assert.deepEqual(await secret.open(sealed), plaintext)
    })
  }

  test('a view into a larger buffer seals only its own bytes', async () => {
    const buffer = utf8.encode('xxxxhello worldyyyy')
    const view = buffer.subarray(4, 15)
    assert.deepEqual(await secret.open(await secret.seal(view, buffer.subarray(0, 4)), utf8.encode('xxxx')), utf8.encode('hello world'))
  })

  test('the same plaintext seals to different bytes every time, with a different IV', async () => {
    const plaintext = utf8.encode('same every time')
    const sealed = await Promise.all(Array.from({ length: 20 }, () => secret.seal(plaintext)))
    const distinct = new Set(sealed.map((s) => Buffer.from(s).toString('hex')))
    assert.equal(distinct.size, 20)
    const ivs = new Set(sealed.map((s) => Buffer.from(s.subarray(1, 13)).toString('hex')))
    assert.equal(ivs.size, 20)
    assert.ok(sealed.every((s) => !Buffer.from(s).includes(Buffer.from(plaintext))), 'the plaintext is not in the sealed bytes')
  })

  test('two derivations from the same key open each other\'s values', async () => {
    const a = utf8.encode('sealed by one')
    const b = utf8.encode('sealed by the other')
    assert.deepEqual(await sameSecret.open(await secret.seal(a)), a)
    assert.deepEqual(await secret.open(await sameSecret.seal(b)), b)
  })

  test('two derivations from the same passphrase and salt open each other\'s values', async () => {
    const again = await deriveSecret({ passphrase: 'correct horse battery staple' }, passphraseSalt('diary'))
    const plaintext = utf8.encode('dear diary')
    assert.deepEqual(await again.open(await fromPassphrase.seal(plaintext)), plaintext)
    assert.deepEqual(await fromPassphrase.open(await again.seal(plaintext)), plaintext)
  })

  test('another key, passphrase or salt cannot open: DecryptionError', async () => {
    const plaintext = utf8.encode('for members only')
    const byKey = await secret.seal(plaintext)
    const byPassphrase = await fromPassphrase.seal(plaintext)
    await assert.rejects(otherSecret.open(byKey), DecryptionError)
    await assert.rejects(fromPassphrase.open(byKey), DecryptionError)
    await assert.rejects(secret.open(byPassphrase), DecryptionError)
    const otherPassphrase = await deriveSecret({ passphrase: 'correct horse battery stapler' }, SALT)
    await assert.rejects(otherPassphrase.open(byPassphrase), DecryptionError)
    const otherSaltPassphrase = await deriveSecret({ passphrase: 'correct horse battery staple' }, passphraseSalt('journal'))
    await assert.rejects(otherSaltPassphrase.open(byPassphrase), DecryptionError)
    const otherSaltKey = await deriveSecret({ key }, utf8.encode('another salt'))
    await assert.rejects(otherSaltKey.open(byKey), DecryptionError)
  })

  test('a flipped bit anywhere: DecryptionError', async () => {
    for (const length of [0, 1024]) {
      const sealed = await secret.seal(randomBytes(length), utf8.encode('context'))
      const positions = length === 0 ? [...sealed.keys()] : samplePositions(sealed.length)
      for (const at of positions) {
        await assert.rejects(secret.open(flipped(sealed, at), utf8.encode('context')), DecryptionError, `byte ${at} of ${sealed.length}`)
      }
    }
  })

  test('a wrong, missing or unexpected aad: DecryptionError', async () => {
    const plaintext = utf8.encode('bound to its place')
    const sealed = await secret.seal(plaintext, utf8.encode('/kadmium/head/abc'))
    assert.deepEqual(await secret.open(sealed, utf8.encode('/kadmium/head/abc')), plaintext)
    await assert.rejects(secret.open(sealed, utf8.encode('/kadmium/head/abd')), DecryptionError)
    await assert.rejects(secret.open(sealed), DecryptionError)
    await assert.rejects(secret.open(await secret.seal(plaintext), utf8.encode('x')), DecryptionError)
  })

  test('no aad is the same as an empty aad', async () => {
    const plaintext = utf8.encode('no context')
    assert.deepEqual(await secret.open(await secret.seal(plaintext), EMPTY), plaintext)
    assert.deepEqual(await secret.open(await secret.seal(plaintext, EMPTY)), plaintext)
  })

  test('truncated or extended: DecryptionError', async () => {
    const sealed = await secret.seal(utf8.encode('cut me short'))
    for (let length = 0; length < sealed.length; length++) {
      await assert.rejects(secret.open(sealed.slice(0, length)), DecryptionError, `first ${length} bytes`)
      await assert.rejects(secret.open(sealed.slice(sealed.length - length)), DecryptionError, `last ${length} bytes`)
    }
    const longer = new Uint8Array(sealed.length + 1)
    longer.set(sealed)
    await assert.rejects(secret.open(longer), DecryptionError)
  })

  test('another version byte: DecryptionError', async () => {
    const sealed = await secret.seal(utf8.encode('version 1'))
    for (const version of [0, 2, 3, 0x81, 255]) {
      const other = sealed.slice()
      other[0] = version
      await assert.rejects(secret.open(other), DecryptionError, `version ${version}`)
    }
  })

  test('not bytes at all: DecryptionError, never another error', async () => {
    const fake = Object.create(Uint8Array.prototype) as Uint8Array
    const junks = [undefined, null, 'sealed', 42, [1, 2, 3], {}, fake, new Uint16Array(40), new ArrayBuffer(40)]
    for (const [i, junk] of junks.entries()) {
      await assert.rejects(secret.open(junk as Uint8Array), DecryptionError, `junk #${i}`)
      await assert.rejects(secret.openDeterministic(junk as Uint8Array), DecryptionError, `junk #${i}`)
    }
    const sealed = await secret.seal(utf8.encode('x'))
    await assert.rejects(secret.open(sealed, 'aad' as unknown as Uint8Array), DecryptionError)
  })

  test('sealing something that is not bytes: InvalidArgumentError', async () => {
    await assert.rejects(secret.seal('text' as unknown as Uint8Array), InvalidArgumentError)
    await assert.rejects(secret.seal(EMPTY, 'aad' as unknown as Uint8Array), InvalidArgumentError)
    await assert.rejects(secret.sealDeterministic([1, 2] as unknown as Uint8Array), InvalidArgumentError)
  })
})

describe('deterministic sealing', () => {
  const name = utf8.encode('team-notes')

  test('round trip, empty included, with and without aad', async () => {
    for (const plaintext of [EMPTY, name, randomBytes(4096)]) {
      assert.deepEqual(await secret.openDeterministic(await secret.sealDeterministic(plaintext)), plaintext)
      const ctx = utf8.encode('manifest')
      assert.deepEqual(await secret.openDeterministic(await secret.sealDeterministic(plaintext, ctx), ctx), plaintext)
    }
  })

  test('the same plaintext gives the same bytes every time and on every peer with the secret', async () => {
    const a = await secret.sealDeterministic(name)
    assert.deepEqual(await secret.sealDeterministic(name), a)
    assert.deepEqual(await sameSecret.sealDeterministic(name), a)
    assert.deepEqual(await sameSecret.openDeterministic(a), name)
  })

  test('another plaintext, aad or secret gives other bytes (and another IV)', async () => {
    const a = await secret.sealDeterministic(name)
    const others = [
      await secret.sealDeterministic(utf8.encode('team-notez')),
      await secret.sealDeterministic(name, utf8.encode('ctx')),
      await otherSecret.sealDeterministic(name)
    ]
    for (const other of others) {
      assert.notDeepEqual(other, a)
      assert.notDeepEqual(other.subarray(1, 13), a.subarray(1, 13))
    }
  })

  test('a wrong secret or aad, a flipped bit, a truncation: DecryptionError', async () => {
    const sealed = await secret.sealDeterministic(name, utf8.encode('ctx'))
    await assert.rejects(otherSecret.openDeterministic(sealed, utf8.encode('ctx')), DecryptionError)
    await assert.rejects(secret.openDeterministic(sealed), DecryptionError)
    for (let at = 0; at < sealed.length; at++) {
      await assert.rejects(secret.openDeterministic(flipped(sealed, at), utf8.encode('ctx')), DecryptionError, `byte ${at}`)
    }
    for (let length = 0; length < sealed.length; length++) {
      await assert.rejects(secret.openDeterministic(sealed.slice(0, length), utf8.encode('ctx')), DecryptionError, `first ${length} bytes`)
    }
  })

  test('a randomly sealed value does not open as a deterministic one, nor the reverse', async () => {
    await assert.rejects(secret.openDeterministic(await secret.seal(name)), DecryptionError)
    await assert.rejects(secret.open(await secret.sealDeterministic(name)), DecryptionError)
    // Even relabelled: the version byte is authenticated.
    const relabelled = (await secret.seal(name)).slice()
    relabelled[0] = 2
    await assert.rejects(secret.openDeterministic(relabelled), DecryptionError)
  })
})

describe('names', () => {
  test('the same on every instance with the same secret, 32 bytes', async () => {
    const a = await secret.name('head', 'address', 'todos', '01JDZ8Q4W5N7K3M2P9R6T8V0XY')
    assert.equal(a.length, 32)
    assert.deepEqual(await secret.name('head', 'address', 'todos', '01JDZ8Q4W5N7K3M2P9R6T8V0XY'), a)
    assert.deepEqual(await sameSecret.name('head', 'address', 'todos', '01JDZ8Q4W5N7K3M2P9R6T8V0XY'), a)
  })

  test('different with another secret, label or part', async () => {
    const a = await secret.name('head', 'todos', 'x')
    const others = [
      await otherSecret.name('head', 'todos', 'x'),
      await fromPassphrase.name('head', 'todos', 'x'),
      await secret.name('index', 'todos', 'x'),
      await secret.name('head', 'todos', 'y'),
      await secret.name('head', 'todos')
    ]
    for (const other of others) assert.notDeepEqual(other, a)
  })

  test('the parts are encoded unambiguously', async () => {
    const pairs: Array<[string[], string[]]> = [
      [['head', 'ab', 'c'], ['head', 'a', 'bc']],
      [['head', 'a', ''], ['head', 'a']],
      [['head', ''], ['head']],
      [['head', 'a\u0000b'], ['head', 'a', 'b']],
      [['headtodos'], ['head', 'todos']]
    ]
    for (const [left, right] of pairs) {
      assert.notDeepEqual(await secret.name(...(left as [string, ...string[]])), await secret.name(...(right as [string, ...string[]])), `${JSON.stringify(left)} vs ${JSON.stringify(right)}`)
    }
  })

  test('a part that is not a string, or has a lone surrogate: InvalidArgumentError', async () => {
    await assert.rejects(secret.name('head', 42 as unknown as string), InvalidArgumentError)
    await assert.rejects(secret.name(undefined as unknown as string), InvalidArgumentError)
    // '\uD800' and '\uFFFD' would otherwise both encode as U+FFFD.
    await assert.rejects(secret.name('head', '\uD800'), InvalidArgumentError)
  })

  test('a name reveals nothing of its parts', async () => {
    const named = await secret.name('head', 'todos')
    assert.ok(!Buffer.from(named).includes(Buffer.from('todos')))
  })
})

describe('key checks', () => {
  test('equal for the same secret, different otherwise, 16 bytes', async () => {
    assert.equal(secret.keyCheck.length, 16)
    assert.deepEqual(sameSecret.keyCheck, secret.keyCheck)
    assert.notDeepEqual(otherSecret.keyCheck, secret.keyCheck)
    assert.notDeepEqual(fromPassphrase.keyCheck, secret.keyCheck)
    const again = await deriveSecret({ passphrase: 'correct horse battery staple' }, SALT)
    assert.deepEqual(again.keyCheck, fromPassphrase.keyCheck)
    assert.notDeepEqual((await deriveSecret({ key }, utf8.encode('salt'))).keyCheck, secret.keyCheck)
  })

  test('is not the key, and changing a copy does not change the secret\'s', () => {
    assert.ok(!Buffer.from(key).includes(Buffer.from(secret.keyCheck.subarray(0, 8))))
    const copy = secret.keyCheck
    copy.fill(0)
    assert.deepEqual(secret.keyCheck, sameSecret.keyCheck)
  })

  test('the same passphrase composed or decomposed (NFC) gives the same secret', async () => {
    const composed = await deriveSecret({ passphrase: 'caf\u00e9' }, SALT)
    const decomposed = await deriveSecret({ passphrase: 'cafe\u0301' }, SALT)
    assert.deepEqual(decomposed.keyCheck, composed.keyCheck)
  })
})

describe('options', () => {
  test('bad options: InvalidArgumentError', async () => {
    const bad: unknown[] = [
      undefined,
      null,
      'key',
      {},
      { key: new Uint8Array(31) },
      { key: new Uint8Array(33) },
      { key: new Uint8Array(0) },
      { key: Array.from({ length: 32 }, () => 1) },
      { key: 'a'.repeat(32) },
      { key: new Uint16Array(32) },
      { passphrase: '' },
      { passphrase: 42 },
      { passphrase: 'lone \uD800 surrogate' },
      { key, passphrase: 'both' }
    ]
    for (const options of bad) {
      await assert.rejects(deriveSecret(options as EncryptionOptions, SALT), InvalidArgumentError, JSON.stringify(options) ?? String(options))
    }
  })

  test('a salt that is not bytes, or a short salt for a passphrase: InvalidArgumentError', async () => {
    await assert.rejects(deriveSecret({ key }, 'salt' as unknown as Uint8Array), InvalidArgumentError)
    await assert.rejects(deriveSecret({ passphrase: 'p' }, EMPTY), InvalidArgumentError)
    await assert.rejects(deriveSecret({ passphrase: 'p' }, new Uint8Array(15)), InvalidArgumentError)
  })

  test('passphrase salts: 16 bytes, the same for the same name, different for another', () => {
    assert.equal(SALT.length, 16)
    assert.deepEqual(passphraseSalt('diary'), SALT)
    assert.notDeepEqual(passphraseSalt('Diary'), SALT)
    assert.notDeepEqual(passphraseSalt(''), passphraseSalt('\u0000'))
  })

  test('the iteration count is OWASP\'s for PBKDF2-HMAC-SHA256', () => {
    assert.ok(PBKDF2_ITERATIONS >= 600_000)
  })
})

describe('figures (printed, not asserted)', () => {
  test('derivation time and throughput', async () => {
    const times: number[] = []
    for (let i = 0; i < 3; i++) {
      const start = performance.now()
      await deriveSecret({ passphrase: `passphrase ${i}` }, SALT)
      times.push(performance.now() - start)
    }
    console.log(`# deriveSecret({ passphrase }), ${PBKDF2_ITERATIONS} iterations: ${times.map((t) => t.toFixed(0)).join(', ')} ms`)
    const start = performance.now()
    await deriveSecret({ key }, EMPTY)
    console.log(`# deriveSecret({ key }): ${(performance.now() - start).toFixed(1)} ms`)
    await measure(secret, 1024, 2000)
    await measure(secret, 1024 * 1024, 40)
  })
})

async function measure (s: DatabaseSecret, size: number, rounds: number): Promise<void> {
  const plaintext = randomBytes(size)
  const aad = utf8.encode('/kadmium/head/x')
  const sealed: Uint8Array[] = []
  let start = performance.now()
  for (let i = 0; i < rounds; i++) sealed.push(await s.seal(plaintext, aad))
  const sealMs = performance.now() - start
  start = performance.now()
  for (const value of sealed) await s.open(value, aad)
  const openMs = performance.now() - start
  const rate = (ms: number): string => `${(rounds / (ms / 1000)).toFixed(0)} ops/s, ${((size * rounds) / (1024 * 1024) / (ms / 1000)).toFixed(0)} MiB/s`
  console.log(`# ${size} B: seal ${rate(sealMs)}; open ${rate(openMs)}`)
}
