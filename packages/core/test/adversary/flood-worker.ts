/**
 * The flooding adversary, in a worker thread of its own: its CPU and heap
 * are then not the honest peers' (in one thread, making and sending the
 * messages would starve the honest peers, and the heap measured would be
 * mostly the adversary's send buffers). It dials the honest peer over TCP,
 * makes every message first, then publishes them at the asked rate.
 *
 * `workerData`: `{ target: multiaddr, address, perSecond, seconds }`.
 * Posts `{ made: ms }` once the messages are made (the flood starts on a
 * `'go'` message) and `{ sent, failed, ms, rate }` at the end.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { topicOf } from '../../src/sync/gossip.ts'
import { signerOf } from '../../src/access/identity.ts'
import { randomBytes, recordUpdate, signEnvelope } from './forge.ts'

interface FloodOrder {
  readonly target: string
  readonly address: string
  readonly perSecond: number
  readonly seconds: number
}

const order = workerData as FloodOrder
const port = parentPort
if (port === null) throw new Error('flood-worker.ts runs as a worker')
const privateKey = await generateKeyPair('Ed25519')
const signer = signerOf(privateKey)
const libp2p = await createLibp2p({
  privateKey,
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    pubsub: gossipsub({ globalSignaturePolicy: 'StrictNoSign', allowPublishToZeroTopicPeers: true, emitSelf: false })
  }
})
const topic = topicOf(order.address)
const target = multiaddr(order.target)
await libp2p.dial(target, { signal: AbortSignal.timeout(10_000) })
const deadline = Date.now() + 10_000
while (libp2p.services.pubsub.getSubscribers(topic).length === 0) {
  if (Date.now() > deadline) throw new Error('the honest peer\'s subscription never arrived')
  await new Promise((resolve) => setTimeout(resolve, 10))
}

// A quarter well-signed writes (each to a record of its own), a quarter well-formed envelopes with
// forged signatures, half random bytes: all distinct, or gossipsub would drop them as duplicates.
// (One Yjs update serves every record: the ids make the envelopes distinct.)
const made = Date.now()
const messages: Uint8Array[] = []
const update = recordUpdate({ title: 'flood' })
for (let i = 0; i < order.perSecond * order.seconds; i++) {
  const entries = [{ collection: 'todos', target: 'record' as const, id: `flood-${i}`, update }]
  switch (i % 4) {
    case 0: messages.push(await signEnvelope(entries, signer, order.address)); break
    case 1: messages.push(await signEnvelope(entries, signer, order.address, { signature: randomBytes(64) })); break
    default: messages.push(randomBytes(64 + (i % 200)))
  }
}
port.postMessage({ made: Date.now() - made })
await new Promise((resolve) => port.once('message', resolve))

const pubsub = libp2p.services.pubsub
const start = Date.now()
const end = start + order.seconds * 1000
let sent = 0
let failed = 0
while (Date.now() < end && sent < messages.length) {
  const due = Math.min(messages.length, Math.floor((Date.now() - start) * order.perSecond / 1000))
  const batch: Array<Promise<unknown>> = []
  for (; sent < due; sent++) batch.push(pubsub.publish(topic, messages[sent] as Uint8Array).catch(() => { failed++ }))
  await Promise.all(batch)
  await new Promise((resolve) => setTimeout(resolve, 5))
}
const ms = Date.now() - start
port.postMessage({ sent, failed, ms, rate: Math.round(sent / (ms / 1000)) })
await libp2p.stop()
