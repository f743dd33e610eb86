/**
 * The network side of a database's presence: its own gossipsub topic.
 * This peer's state goes out when it changes (changes close together
 * leave as one message), every heartbeat, and when a peer joins the topic
 * (so a newcomer sees everyone at once); a leave goes out on stop. A topic
 * validator checks what comes in before gossipsub forwards it: structure,
 * freshness and order, signature, membership (restricted databases),
 * decryption (encrypted ones), schema.
 * @module
 */
import { TopicValidatorResult, type GossipSub, type Message, type SubscriptionChangeData } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { KadmiumError, UnauthorizedWriterError } from '../errors.ts'
import type { Signer } from '../access/identity.ts'
import type { Sealer } from '../access/sealer.ts'
import { toHex } from '../util/hash.ts'
import { InFlight } from '../util/in-flight.ts'
import { systemClock, type Clock, type ClockTimer } from '../util/clock.ts'
import { decodePresence, encodePresence, MAX_EXPIRY_MS, openPresence, type PresenceContext } from './presence-message.ts'
import type { PresenceBook, PresenceLink } from './presence.ts'

/** The gossipsub topic of a database's presence. */
export function presenceTopicOf (address: string): string {
  return `/kadmium/presence/${address}`
}

/** Who a {@link PresenceChannel} signs as, whose states it takes, how states are sealed. */
export interface PresenceSecurity {
  readonly signer: Signer
  /** This peer's id (the signer's). */
  readonly self: string
  /** Membership: in a restricted database only owners and writers are present. */
  readonly access: { readonly restricted: boolean, mayWrite (key: Uint8Array): boolean }
  readonly sealer?: Sealer | undefined
}

/** What a {@link PresenceChannel} reports. */
export interface PresenceChannelEvents {
  /** A presence message was refused: the sender's gossipsub score drops. */
  readonly onRejected: (reason: string, from: PeerId) => void
}

/** Clock difference tolerated between peers (ms): a message dated further ahead, or older than its expiry by more, is ignored. */
const MAX_SKEW_MS = 30_000
/** Changes of this peer's state closer together than this (ms) leave as one message. */
const THROTTLE_MS = 50
/** Messages from one peer validated at once at most; more are dropped (the next heartbeat repairs). */
const MAX_VALIDATING_PER_PEER = 32

/** The presence topic of one database. */
export class PresenceChannel {
  readonly topic: string
  readonly #pubsub: GossipSub
  readonly #presence: PresenceBook
  readonly #security: PresenceSecurity
  readonly #events: PresenceChannelEvents
  readonly #context: PresenceContext
  readonly #clock: Clock
  /** Per author (hex key): the [ts, seq] of its latest accepted message, against replays and reordering. */
  readonly #latest = new Map<string, readonly [number, number]>()
  readonly #validating = new InFlight(MAX_VALIDATING_PER_PEER)
  readonly #decoded = new WeakMap<Uint8Array, { from: string, state: object | null, expiry: number }>()
  #seq = 0
  /** Whether this peer's last message announced a state (so that stop or clear owes a leave). */
  #announced = false
  #sending: Promise<void> | undefined
  #dirty = false
  #throttle?: ClockTimer
  #heartbeat?: ClockTimer
  #stopped = false
  readonly #onMessage = (event: CustomEvent<Message>): void => { this.#receive(event.detail) }
  readonly #onSubscriptions = (event: CustomEvent<SubscriptionChangeData>): void => {
    const { peerId, subscriptions } = event.detail
    for (const s of subscriptions) {
      if (s.topic !== this.topic) continue
      if (s.subscribe) this.#changed()
      else this.#presence.left(peerId.toString())
    }
  }

  readonly #link: PresenceLink = { changed: () => { this.#changed() } }

  constructor (pubsub: GossipSub, address: string, presence: PresenceBook, security: PresenceSecurity, events: PresenceChannelEvents, clock: Clock = systemClock) {
    this.#pubsub = pubsub
    this.#presence = presence
    this.#security = security
    this.#events = events
    this.#context = { address, sealer: security.sealer }
    this.#clock = clock
    this.topic = presenceTopicOf(address)
  }

  /** Joins the topic and starts announcing. */
  start (): void {
    this.#pubsub.topicValidators.set(this.topic, async (from, message) => this.#validate(from, message))
    this.#pubsub.addEventListener('message', this.#onMessage)
    this.#pubsub.addEventListener('subscription-change', this.#onSubscriptions)
    this.#pubsub.subscribe(this.topic)
    this.#presence.attach(this.#link)
    this.#beat()
  }

  /** Announces that this peer leaves (if it had a state), then leaves the topic. */
  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    if (this.#throttle !== undefined) this.#clock.clearTimeout(this.#throttle)
    if (this.#heartbeat !== undefined) this.#clock.clearTimeout(this.#heartbeat)
    this.#presence.detach()
    await this.#sending
    if (this.#announced) await this.#send(null)
    try {
      this.#pubsub.unsubscribe(this.topic)
    } catch {
      // The node stopped first (a crash, the peer closed before the database): no topic to leave.
    }
    this.#pubsub.removeEventListener('message', this.#onMessage)
    this.#pubsub.removeEventListener('subscription-change', this.#onSubscriptions)
    this.#pubsub.topicValidators.delete(this.topic)
  }

  /** Sends this peer's state (or its leave) now, or after the throttle if a message just left. */
  #changed (): void {
    if (this.#stopped) return
    if (this.#sending !== undefined || this.#throttle !== undefined) {
      this.#dirty = true
      return
    }
    this.#dirty = false
    this.#sending = this.#announce().finally(() => {
      this.#sending = undefined
      if (this.#stopped) return
      this.#throttle = this.#clock.setTimeout(() => {
        this.#throttle = undefined
        if (this.#dirty) this.#changed()
      }, THROTTLE_MS)
    })
  }

  /** Every heartbeat: this peer's state again, and old replay entries forgotten. */
  #beat (): void {
    this.#heartbeat = this.#clock.setTimeout(() => {
      if (this.#stopped) return
      if (this.#presence.encodedSelf !== undefined) this.#changed()
      this.#forget()
      this.#beat()
    }, this.#presence.heartbeat)
  }

  async #announce (): Promise<void> {
    const state = this.#presence.encodedSelf
    // Nothing to say: no state, and no earlier one to take back.
    if (state === undefined && !this.#announced) return
    // A restricted database's non-member announces nothing (members would refuse it).
    if (this.#security.access.restricted && !this.#security.access.mayWrite(this.#security.signer.publicKey)) return
    await this.#send(state ?? null)
  }

  async #send (state: Uint8Array | null): Promise<void> {
    this.#announced = state !== null
    if (this.#pubsub.getSubscribers(this.topic).length === 0) return
    this.#seq = (this.#seq + 1) % Number.MAX_SAFE_INTEGER
    try {
      const message = await encodePresence(state, { ts: this.#clock.now(), seq: this.#seq, expiry: this.#presence.expiry }, this.#security.signer, this.#context)
      await this.#pubsub.publish(this.topic, message)
    } catch {
      // Best effort: the next heartbeat says it again.
    }
  }

  async #validate (from: PeerId, message: Message): Promise<TopicValidatorResult> {
    const peer = from.toString()
    if (!this.#validating.enter(peer)) return TopicValidatorResult.Ignore
    try {
      const raw = decodePresence(message.data)
      const now = this.#clock.now()
      // From the future, or past its expiry: nothing to show (a replay, or a clock far off).
      if (raw.ts > now + MAX_SKEW_MS || raw.ts + raw.expiry + MAX_SKEW_MS < now) return TopicValidatorResult.Ignore
      const key = toHex(raw.author)
      if (!this.#newer(key, raw.ts, raw.seq)) return TopicValidatorResult.Ignore
      const opened = await openPresence(raw, this.#context)
      if (opened.from === this.#security.self) return TopicValidatorResult.Ignore
      if (this.#security.access.restricted && !this.#security.access.mayWrite(raw.author)) throw new UnauthorizedWriterError(opened.from)
      const state = opened.state === null ? null : await this.#presence.admit(opened.state)
      // Another message of this author may have been accepted meanwhile.
      if (!this.#newer(key, raw.ts, raw.seq)) return TopicValidatorResult.Ignore
      this.#latest.set(key, [raw.ts, raw.seq])
      this.#decoded.set(message.data, { from: opened.from, state, expiry: raw.expiry })
      return TopicValidatorResult.Accept
    } catch (error) {
      const reason = error instanceof KadmiumError ? `${error.name}: ${error.message}` : `MalformedMessageError: ${String(error)}`
      this.#events.onRejected(reason, from)
      return TopicValidatorResult.Reject
    } finally {
      this.#validating.leave(peer)
    }
  }

  /** Whether [ts, seq] comes after the author's latest accepted message. */
  #newer (key: string, ts: number, seq: number): boolean {
    const latest = this.#latest.get(key)
    return latest === undefined || ts > latest[0] || (ts === latest[0] && seq > latest[1])
  }

  #receive (message: Message): void {
    if (message.topic !== this.topic) return
    const decoded = this.#decoded.get(message.data)
    if (decoded === undefined) return
    this.#decoded.delete(message.data)
    if (decoded.state === null) this.#presence.left(decoded.from)
    else this.#presence.heard(decoded.from, decoded.state, decoded.expiry)
  }

  /** Forgets the latest [ts, seq] of authors silent for longer than any message can stay fresh. */
  #forget (): void {
    const horizon = this.#clock.now() - MAX_EXPIRY_MS - 2 * MAX_SKEW_MS
    for (const [key, [ts]] of this.#latest) if (ts < horizon) this.#latest.delete(key)
  }
}
