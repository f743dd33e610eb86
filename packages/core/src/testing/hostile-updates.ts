/**
 * Crafted Yjs updates (format V1) that are well-formed but make Yjs's
 * conflict resolution (`Item.integrate`) quadratic: what a hostile peer
 * sends to stall another. Kadmium's update guard refuses them before Yjs
 * sees them; tests of that (core's, an app's) and the `guard` benchmark
 * build them here.
 * @module
 */
import * as encoding from 'lib0/encoding'

type Enc = encoding.Encoder

function section (e: Enc, structs: number, client: number, clock: number): void {
  encoding.writeVarUint(e, structs)
  encoding.writeVarUint(e, client)
  encoding.writeVarUint(e, clock)
}

/**
 * Client 2 appends `k` nulls after 1:L-2, 1:L-3, ... (no right origin);
 * client 1 is one deleted item of length L in root `a` (or, `chained`, L
 * one-clock items). About 6 bytes per item (11 chained).
 */
export function splitFamily (k: number, chained = false): Uint8Array {
  const l = k + 10
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 2)
  section(e, k, 2, 0)
  for (let i = 0; i < k; i++) {
    encoding.writeUint8(e, 0x80 | 8)
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint(e, l - 2 - i)
    encoding.writeVarUint(e, 1)
    encoding.writeUint8(e, 126)
  }
  section(e, chained ? l : 1, 1, 0)
  encoding.writeUint8(e, 1)
  encoding.writeVarUint(e, 1)
  encoding.writeVarString(e, 'a')
  encoding.writeVarUint(e, chained ? 1 : l)
  for (let c = 1; chained && c < l; c++) {
    encoding.writeUint8(e, 0x80 | 1)
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint(e, c - 1)
    encoding.writeVarUint(e, 1)
  }
  encoding.writeVarUint(e, 1)
  section(e, 1, 1, 0) // delete set: client 1, one range 0..l (same layout as a section header)
  encoding.writeVarUint(e, l)
  return encoding.toUint8Array(e)
}

function mapItem (e: Enc): void {
  encoding.writeUint8(e, 0x20 | 8)
  encoding.writeVarUint(e, 1)
  encoding.writeVarString(e, 'm')
  encoding.writeVarString(e, 'k')
  encoding.writeVarUint(e, 1)
  encoding.writeUint8(e, 126)
}

/** One client writes `k` values of map `m` key `k`, none with an origin. About 8 bytes per item. */
export function mapFamily (k: number): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1)
  section(e, k, 2, 0)
  for (let i = 0; i < k; i++) mapItem(e)
  encoding.writeVarUint(e, 0)
  return encoding.toUint8Array(e)
}

/**
 * `n` clients each write one value of `m.k` without origin; each first
 * inserts after the previous client's value, which makes Yjs integrate
 * them in ascending order (the slowest). About 18 bytes per client.
 */
export function manyClientsMapFamily (n: number): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, n)
  for (let c = 0; c < n; c++) {
    const client = 1000 + c
    section(e, 2, client, 0)
    if (c === 0) {
      encoding.writeUint8(e, 8)
      encoding.writeVarUint(e, 1)
      encoding.writeVarString(e, 'z')
    } else {
      encoding.writeUint8(e, 0x80 | 8)
      encoding.writeVarUint(e, client - 1)
      encoding.writeVarUint(e, 1)
    }
    encoding.writeVarUint(e, 1)
    encoding.writeUint8(e, 126)
    mapItem(e)
  }
  encoding.writeVarUint(e, 0)
  return encoding.toUint8Array(e)
}
