/**
 * The adversary's side of one catch-up session (`/kadmium/sync/1.0.0`):
 * any message, correctly signed or not, in any order, raw bytes, a stall,
 * or a stream that never ends. What the honest peer sends is read in the
 * background (so that its writes never block on us) and kept.
 */
import type { Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { encode } from 'cborg'
import { signedBytes, type Signer } from '../../src/access/identity.ts'
import { encodeSyncMessage, type SyncMessage } from '../../src/sync/sync-messages.ts'
import { messages, readMessage } from '../../src/sync/sync-session.ts'

const encoder = new TextEncoder()

/** How a signed session message may be signed wrong. */
export interface SignOptions {
  /** The address the signature covers. @default the session's */
  readonly address?: string
  /** The nonce the signature covers. @default the honest peer's (from its ok) */
  readonly nonce?: Uint8Array
  /** The counter the signature covers. @default the next one of the session */
  readonly counter?: number
  /** Signs as someone else. @default the adversary */
  readonly signer?: Signer
}

/** How the stream ended, from the adversary's side. */
export interface SessionEnd {
  /** Ms from the opening of the session to its end. */
  readonly afterMs: number
  /** Whether the honest peer reset the stream (rather than closing it after a finished session). */
  readonly reset: boolean
  /** Why reading ended, if not by a clean end of the stream. */
  readonly error: Error | undefined
}

/**
 * One open catch-up stream to an honest peer. Create with
 * `Adversary.openSync()`; `ended` resolves once the honest peer closes or
 * resets the stream.
 */
export class SyncHandle {
  /** The length-prefixed stream (never unwrap it: that ends it). */
  readonly lp: LengthPrefixedStream<Stream>
  /** The underlying stream. */
  readonly stream: Stream
  /** The database address named in the hello. */
  readonly address: string
  /** The nonce the adversary sent in its hello (the honest peer signs with it). */
  readonly mine: Uint8Array
  /** The honest peer's nonce from its ok (the adversary signs with it); empty until the ok arrived. */
  theirs: Uint8Array = new Uint8Array(0)
  /** Every message the honest peer sent, in order. */
  readonly received: SyncMessage[] = []
  /** Resolves once the honest peer closed or reset the stream. */
  readonly ended: Promise<SessionEnd>
  readonly #signer: Signer
  readonly #opened = Date.now()
  #counter = 0
  #endedAt: SessionEnd | undefined

  constructor (stream: Stream, address: string, mine: Uint8Array, signer: Signer) {
    this.stream = stream
    this.lp = messages(stream)
    this.address = address
    this.mine = mine
    this.#signer = signer
    this.ended = this.#drain()
  }


  /** Whether the honest peer has ended the stream. */
  get isEnded (): boolean {
    return this.#endedAt !== undefined
  }

  /** Resolves with the first message of kind `t` the honest peer sends (or rejects when the stream ends first). */
  async waitFor (t: SyncMessage['t'], timeoutMs = 10_000): Promise<SyncMessage> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.received.find((m) => m.t === t)
      if (found !== undefined) return found
      if (this.#endedAt !== undefined) throw new Error(`the stream ended before a "${t}" message`)
      if (Date.now() > deadline) throw new Error(`no "${t}" message within ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  /** Sends a message as it is. */
  async send (message: SyncMessage): Promise<void> {
    await this.lp.write(encodeSyncMessage(message))
  }

  /** Sends any bytes as one length-prefixed message. */
  async sendFrame (bytes: Uint8Array): Promise<void> {
    await this.lp.write(bytes)
  }

  /** Sends bytes on the stream with no framing at all (a length prefix of your own, garbage...). */
  sendUnframed (bytes: Uint8Array): void {
    this.stream.send(bytes)
  }

  /** The signature the honest peer expects on a signed message (`options` make it wrong); does not advance the counter unless asked to. */
  async sign (t: 'u' | 'b', y: Uint8Array, options: SignOptions = {}): Promise<Uint8Array> {
    const counter = options.counter ?? this.#counter
    const data = signedBytes('kadmium/sync/2', encoder.encode(options.address ?? this.address), options.nonce ?? this.theirs, encoder.encode(`${counter}:${t}`), y)
    return (options.signer ?? this.#signer).sign(data)
  }

  /**
   * Sends a signed updates (`u`) or big-update (`b`) message whose payload
   * is the CBOR of `payload` (or, for a `Uint8Array`, those bytes), signed
   * as the honest peer expects unless `options` say otherwise. Each call
   * advances the session counter.
   */
  async sendSigned (t: 'u' | 'b', payload: unknown, options: SignOptions = {}): Promise<{ y: Uint8Array, s: Uint8Array }> {
    const y = payload instanceof Uint8Array ? payload : encode(payload)
    const s = await this.sign(t, y, options)
    this.#counter++
    await this.send({ t, y, s })
    return { y, s }
  }

  /** Sends the digests of an empty replica and a plan of `n` updates: the honest peer then expects `n` updates. */
  async announce (n: number): Promise<void> {
    await this.send({ t: 'D' })
    await this.send({ t: 'p', n })
  }

  /** Closes the adversary's side. */
  async close (): Promise<void> {
    await this.stream.close().catch(() => { this.stream.abort(new Error('closed by the adversary')) })
  }

  /** Resets the stream. */
  abort (): void {
    this.stream.abort(new Error('aborted by the adversary'))
  }

  async #drain (): Promise<SessionEnd> {
    // A pending read does not notice a reset of the stream: watch for its close as well.
    const stream = this.stream
    const closed = new Promise<void>((resolve) => {
      if (stream.status !== 'open') resolve()
      stream.addEventListener('close', () => { resolve() }, { once: true })
    })
    let error: Error | undefined
    const read = async (): Promise<void> => {
      for (;;) this.received.push(await readMessage(this.lp, 120_000))
    }
    try {
      await Promise.race([read(), closed])
    } catch (e) {
      const cause = (e as Error).cause
      // A clean end of the stream reads as "unexpected end of input".
      error = cause instanceof Error && cause.name === 'UnexpectedEOFError' ? undefined : e as Error
    }
    this.#endedAt = { afterMs: Date.now() - this.#opened, reset: stream.status === 'reset' || stream.status === 'aborted', error }
    return this.#endedAt
  }
}
