import { MalformedUpdateError } from '../errors.ts'
import { sha256, toHex } from '../util/hash.ts'
import { MAX_BLOCK_BYTES, verifyHeadValue } from './head.ts'
import { BLOCK_NS, HEAD_NS, parseKey } from './dht-keys.ts'

type ValidateFn = (key: Uint8Array, value: Uint8Array) => void | Promise<void>
type SelectFn = (key: Uint8Array, records: Uint8Array[]) => number | Promise<number>

/** Rejects a block whose bytes do not hash to its key, or that is too large. */
function validateBlock (key: Uint8Array, value: Uint8Array): void {
  const parsed = parseKey(key)
  if (parsed?.ns !== BLOCK_NS) throw new MalformedUpdateError('not a block key')
  if (value.length > MAX_BLOCK_BYTES) throw new MalformedUpdateError(`a block holds at most ${MAX_BLOCK_BYTES} bytes`)
  if (toHex(sha256(value)) !== parsed.hex) throw new MalformedUpdateError('block bytes do not match their hash')
}

/**
 * Rejects a head value (one head, or a head set) that does not decode, holds
 * an author twice, or any of whose signatures does not verify for its key:
 * a set with one bad head is refused whole, so a server keeps what it holds.
 */
async function validateHead (key: Uint8Array, value: Uint8Array): Promise<void> {
  if (parseKey(key)?.ns !== HEAD_NS) throw new MalformedUpdateError('not a head key')
  await verifyHeadValue(key, value)
}

/**
 * Why values were refused lately, by DHT key: kad-dht drops a value its
 * validator refuses with a bare "invalid record" event, so the DHT store
 * looks the reason up here to report it. Bounded.
 */
const refusals = new Map<string, string>()
const MAX_REFUSALS = 1024

/** The reason the last value under `key` was refused, if one was lately (and forgets it). */
export function takeRefusal (key: Uint8Array): string | undefined {
  const id = toHex(key)
  const reason = refusals.get(id)
  refusals.delete(id)
  return reason
}

function noting (validate: ValidateFn): ValidateFn {
  return async (key, value) => {
    try {
      await validate(key, value)
    } catch (error) {
      if (refusals.size >= MAX_REFUSALS) refusals.delete(refusals.keys().next().value as string)
      refusals.set(toHex(key), error instanceof Error ? `${error.name}: ${error.message}` : String(error))
      throw error
    }
  }
}

/**
 * kad-dht validators for Kadmium's namespaces: pass as `validators` to
 * `kadDHT()` (the node adapter does).
 */
export const dhtValidators: Record<string, ValidateFn> = {
  [BLOCK_NS]: noting(validateBlock),
  [HEAD_NS]: noting(validateHead)
}

/**
 * kad-dht selectors for Kadmium's namespaces. Blocks under one key are
 * identical. For heads Kadmium merges every replica itself (see the DHT
 * store), so kad-dht's pick only decides what its `get` sends as a
 * "correction" to the copies that differ (which Kadmium servers merge in,
 * see `merging-datastore.ts`): it always picks the first value, which is
 * this peer's own copy when it has one (kad-dht lists the local value
 * first), so the local copy comes back to the caller as the pick (the DHT
 * store merges it in).
 */
export const dhtSelectors: Record<string, SelectFn> = {
  [BLOCK_NS]: () => 0,
  [HEAD_NS]: () => 0
}
