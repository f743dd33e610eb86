/**
 * The soak's hostile peer, in an OS process of its own: a libp2p node with
 * Kadmium's profile (so that honest peers take it for one of theirs) and
 * no database, that publishes garbage on the database's gossip topic at a
 * steady rate — random bytes, malformed CBOR, envelopes with forged
 * signatures and envelopes of the wrong shape, every message distinct (or
 * gossipsub would drop repeats before Kadmium sees them).
 *
 * Argument: `{ address, targets, perSecond, sampleMs }` as JSON. Dials the
 * `targets`, and the addresses of later `{ dial }` messages (a peer that
 * restarted); reports `{ sample: { t, sent, failed } }` every `sampleMs`.
 * @module
 */
import { encode } from 'cborg'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { kadmiumLibp2pOptions } from '@kadmium/core/profile'

interface HostileConfig {
  readonly address: string
  readonly targets: readonly string[]
  readonly perSecond: number
  readonly sampleMs: number
}

const config = JSON.parse(process.argv[2] ?? '{}') as HostileConfig
const topic = `/kadmium/db/${config.address}`
const libp2p = await createLibp2p({
  ...kadmiumLibp2pOptions({ network: 'local' }),
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()]
})
const pubsub = libp2p.services.pubsub

/** Dials each address (of a peer each, with its `/p2p/` id); a failed dial is no error (the peer may have just left). */
async function dial (addresses: readonly string[]): Promise<void> {
  await Promise.all(addresses.map(async (a) => { await libp2p.dial(multiaddr(a), { signal: AbortSignal.timeout(5000) }).catch(() => {}) }))
}

function bytes (n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n))
}

let counter = 0
/** The next piece of garbage: four kinds in turn, each made distinct by the counter or random bytes. */
function garbage (): Uint8Array {
  const i = counter++
  const tail = bytes(8)
  switch (i % 4) {
    case 0: return bytes(16 + (i % 500))
    case 1: {
      const variants = [
        // An envelope cut short.
        () => encode([2, bytes(32), bytes(64), encode([Date.now(), i, [['items', 0, `p0-s${i % 16}`, bytes(40)]]])]).slice(0, 40 + (i % 60)),
        // A map of indefinite length, never closed.
        () => Uint8Array.of(0xbf, 0x61, 0x76, ...tail),
        // An array that says it holds 2^64 - 1 items.
        () => Uint8Array.of(0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...tail),
        // Arrays nested 5,000 deep.
        () => Uint8Array.of(...new Array<number>(5000).fill(0x81), 0x00, ...tail)
      ]
      return (variants[(i >> 2) % variants.length] as () => Uint8Array)()
    }
    // A well-formed envelope whose signature is forged: checking it costs each receiver a verification.
    case 2: return encode([2, bytes(32), bytes(64), encode([Date.now(), i, [['items', 0, `p0-s${i % 16}`, bytes(40)]]])])
    // Envelopes of the wrong shape.
    default: return encode((i >> 2) % 2 === 0 ? [3, bytes(32), bytes(64), bytes(48)] : { v: 2, author: 'me', body: tail, n: i })
  }
}

await dial(config.targets)
process.on('message', (message: { dial?: string[], stop?: boolean }) => {
  if (message.dial !== undefined) void dial(message.dial)
  if (message.stop === true) void Promise.resolve(libp2p.stop()).finally(() => process.exit(0))
})
process.on('disconnect', () => { void Promise.resolve(libp2p.stop()).finally(() => process.exit(0)) })

const start = Date.now()
let due = 0
let sent = 0
let failed = 0
let pending = 0
/** Publishes in flight at most: past it, messages due are not made (counted as failed). */
const MAX_PENDING = 1000
setInterval(() => {
  const target = Math.floor((Date.now() - start) * config.perSecond / 1000)
  for (; due < target; due++) {
    if (pending >= MAX_PENDING) {
      failed++
      continue
    }
    pending++
    pubsub.publish(topic, garbage()).then(() => { sent++ }, () => { failed++ }).finally(() => { pending-- })
  }
}, 10)
setInterval(() => {
  process.send?.({ sample: { t: Date.now(), sent, failed } })
  sent = 0
  failed = 0
}, config.sampleMs)
process.send?.({ ready: { id: libp2p.peerId.toString() } })
