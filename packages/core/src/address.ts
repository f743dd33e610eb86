import { encode } from 'cborg'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { sha256 } from './hash.ts'

/** Multicodec of raw bytes, and of SHA-256. */
const RAW = 0x55
const SHA2_256 = 0x12

/** The manifest of a database: what its address is the hash of. */
export function encodeManifest (name: string): Uint8Array {
  return encode({ v: 1, name })
}

/**
 * The address of a database: the CID (v1, raw, SHA-256) of its manifest,
 * as a base32 string. The same name gives the same address everywhere.
 */
export function databaseAddress (name: string): string {
  return CID.createV1(RAW, createDigest(SHA2_256, sha256(encodeManifest(name)))).toString()
}
