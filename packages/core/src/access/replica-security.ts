/**
 * What replication needs to know about a database's security: who this
 * peer signs as, who may write, and (in an encrypted database) how bytes
 * are sealed and names hidden.
 * @module
 */
import type { WriteAccess } from './write-access.ts'
import type { Signer } from './identity.ts'
import type { Sealer } from './sealer.ts'

/** Names hidden with the secret: DHT keys of an encrypted database. */
export interface Namer {
  /** A keyed pseudonym (HMAC) of the parts: the same on every peer with the secret. */
  name (label: string, ...parts: string[]): Promise<Uint8Array>
}

/** A database's security, as replication uses it. */
export interface ReplicaSecurity {
  readonly signer: Signer
  readonly access: WriteAccess
  /** Present in an encrypted database. */
  readonly sealer?: Sealer | undefined
  /** Present in an encrypted database. */
  readonly namer?: Namer | undefined
}
