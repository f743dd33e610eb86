import { TopicValidatorResult, type GossipSub, type Message, type SubscriptionChangeData } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { KadmiumError, MalformedMessageError } from '../errors.ts'
import type { Signer } from '../access/identity.ts'
import { ReplayFilter, replayKey } from './replay.ts'
import { InFlight } from '../util/in-flight.ts'
import type { WriteAccess } from '../access/write-access.ts'
import type { Sealer } from '../access/sealer.ts'
import {
  decodeEnvelope, encodeEnvelope, entrySize, MAX_ENVELOPE_BYTES, openEnvelope, TARGET_ENVELOPE_BYTES, type Envelope, type EnvelopeContext, type EnvelopeEntry
} from './envelope.ts'

/** The gossipsub topic of a database. */
export function topicOf (address: string): string {
  return `/kadmium/db/${address}`
}

/** What a {@link GossipChannel} reports. */
export interface GossipHandlers {
  /** A valid envelope of this database arrived (never one of our own), from neighbour `via` (its author, or a peer that forwarded it). */
  readonly onEnvelope: (envelope: Envelope, via: PeerId) => void
  /** A message on the topic was rejected: the sender's score drops. */
  readonly onRejected: (reason: string, from: PeerId) => void
  /** A peer subscribed to the topic. */
  readonly onJoin?: (peer: PeerId) => void
  /** A message from `from` was dropped unchecked (it sent too many at once): what it carried needs a catch-up. */
  readonly onDropped?: (from: PeerId) => void
}

/** Who a {@link GossipChannel} signs as, who may write, and how entries are sealed. */
export interface GossipSecurity {
  readonly signer: Signer
  readonly access: WriteAccess
  readonly sealer?: Sealer | undefined
}

/** Envelopes from one peer being validated at once at most; more are dropped (catch-up repairs). */
const MAX_VALIDATING_PER_PEER = 256

/**
 * A database's live channel: one gossipsub topic. Local updates go out in
 * batches (everything written in one tick shares envelopes); incoming
 * messages are checked by a topic validator before anything touches a
 * document, so gossipsub drops and scores down senders of bad ones.
 */
export class GossipChannel {
  readonly topic: string
  readonly #pubsub: GossipSub
  readonly #address: string
  readonly #handlers: GossipHandlers
  readonly #security: GossipSecurity
  readonly #context: EnvelopeContext
  readonly #replays = new ReplayFilter()
  /** Envelopes under validation, by the peer that sent them. */
  readonly #validating = new InFlight(MAX_VALIDATING_PER_PEER)
  /** Envelopes decoded by the validator, with the neighbour they came from, handed to the message listener. */
  readonly #decoded = new WeakMap<Uint8Array, { envelope: Envelope, via: PeerId }>()
  #outbox: EnvelopeEntry[] = []
  #flushing: Promise<void> | undefined
  readonly #listener = (event: CustomEvent<Message>): void => { this.#receive(event.detail) }
  readonly #onSubscriptions = (event: CustomEvent<SubscriptionChangeData>): void => {
    const { peerId, subscriptions } = event.detail
    if (subscriptions.some((s) => s.topic === this.topic && s.subscribe)) this.#handlers.onJoin?.(peerId)
  }

  constructor (pubsub: GossipSub, address: string, security: GossipSecurity, handlers: GossipHandlers) {
    this.#pubsub = pubsub
    this.#address = address
    this.#security = security
    this.#context = { address, addressBytes: new TextEncoder().encode(address), sealer: security.sealer }
    this.#handlers = handlers
    this.topic = topicOf(address)
  }

  /** Joins the topic. */
  start (): void {
    this.#pubsub.topicValidators.set(this.topic, (from, message) => this.#validate(from, message))
    this.#pubsub.addEventListener('message', this.#listener)
    this.#pubsub.addEventListener('subscription-change', this.#onSubscriptions)
    this.#pubsub.subscribe(this.topic)
  }

  /** Leaves the topic, after sending what is queued. */
  async stop (): Promise<void> {
    await this.flush()
    try {
      this.#pubsub.unsubscribe(this.topic)
    } catch {
      // The node stopped first (a crash, the peer closed before the database): no topic to leave.
    }
    this.#pubsub.removeEventListener('message', this.#listener)
    this.#pubsub.removeEventListener('subscription-change', this.#onSubscriptions)
    this.#pubsub.topicValidators.delete(this.topic)
  }

  /** Peers subscribed to the topic. */
  peers (): PeerId[] {
    return this.#pubsub.getSubscribers(this.topic)
  }

  /**
   * Queues an update to send; everything queued in one tick leaves
   * together. Returns whether a peer subscribes to the topic (else nothing
   * is signed nor sent: a peer that subscribes later catches up).
   */
  send (entry: EnvelopeEntry): boolean {
    if (this.#flushing === undefined) {
      if (this.#pubsub.getSubscribers(this.topic).length === 0) return false
      this.#flushing = Promise.resolve().then(async () => this.#flush())
    }
    this.#outbox.push(entry)
    return true
  }

  /** Resolves once everything queued is published. */
  async flush (): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing
  }

  async #flush (): Promise<void> {
    try {
      while (this.#outbox.length > 0) {
        const entries = this.#outbox
        this.#outbox = []
        // Nobody listens: nothing to sign or send (a peer that subscribes later catches up).
        if (this.#pubsub.getSubscribers(this.topic).length === 0) continue
        for (const batch of batches(entries)) {
          try {
            const envelope = await encodeEnvelope(batch, this.#security.signer, this.#context)
            await this.#pubsub.publish(this.topic, envelope)
          } catch {
            // No subscribers, or a duplicate: gossip is best effort; catch-up repairs.
          }
        }
      }
    } finally {
      this.#flushing = undefined
    }
  }

  async #validate (from: PeerId, message: Message): Promise<TopicValidatorResult> {
    const peer = from.toString()
    // A flood from one peer: drop what it sends beyond a bound, without a verdict.
    if (!this.#validating.enter(peer)) {
      this.#handlers.onDropped?.(from)
      return TopicValidatorResult.Ignore
    }
    try {
      const raw = decodeEnvelope(message.data)
      const key = replayKey(raw.author, raw.ts, raw.seq)
      const freshness = this.#replays.check(key, raw.ts)
      if (freshness === 'stale') throw new MalformedMessageError('a stale envelope (older than the replay window, or from the future)')
      if (freshness === 'replay') return TopicValidatorResult.Ignore
      const envelope = await openEnvelope(raw, this.#context)
      // Remembered once genuine (see replay.ts); a second copy that was verified meanwhile is let go.
      if (this.#replays.check(key, raw.ts) === 'replay') return TopicValidatorResult.Ignore
      this.#replays.remember(key)
      for (const entry of envelope.entries) this.#security.access.check(envelope.author, entry.collection)
      this.#decoded.set(message.data, { envelope, via: from })
      return TopicValidatorResult.Accept
    } catch (error) {
      const reason = error instanceof KadmiumError ? `${error.name}: ${error.message}` : `MalformedMessageError: ${String(error)}`
      this.#handlers.onRejected(reason, from)
      return TopicValidatorResult.Reject
    } finally {
      this.#validating.leave(peer)
    }
  }

  #receive (message: Message): void {
    if (message.topic !== this.topic) return
    const decoded = this.#decoded.get(message.data)
    // (Own envelopes never come back: gossipsub runs with emitSelf off.)
    if (decoded === undefined) return
    this.#decoded.delete(message.data)
    this.#handlers.onEnvelope(decoded.envelope, decoded.via)
  }
}

/** Splits entries into envelopes: large updates alone, oversized ones as hints. */
function * batches (entries: readonly EnvelopeEntry[]): Generator<EnvelopeEntry[]> {
  let batch: EnvelopeEntry[] = []
  let size = 0
  for (const entry of entries) {
    let e = entry
    const s = entrySize(e)
    if (s > MAX_ENVELOPE_BYTES - 1024) e = { collection: e.collection, target: e.target, ...(e.id !== undefined ? { id: e.id } : {}) }
    if (batch.length > 0 && size + entrySize(e) > TARGET_ENVELOPE_BYTES) {
      yield batch
      batch = []
      size = 0
    }
    batch.push(e)
    size += entrySize(e)
  }
  if (batch.length > 0) yield batch
}
