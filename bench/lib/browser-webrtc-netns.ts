/**
 * The `browser` scenario's propagation over direct WebRTC, run by
 * `browser-webrtc.ts` inside a network namespace of its own (loopback alone
 * gives Chromium no ICE candidate pair between two pages; see the browser
 * tests' `network-namespace.ts`). A script: it reads its parameters from
 * {@link PARAMS_ENV}, prints progress on stderr and its result as one line
 * `RESULT_PREFIX <json>` on stdout.
 *
 * A real `kadmium serve` on 127.0.0.1 relays two pages of one Chromium
 * (two tabs of a profile on disk, each with its own peer store and
 * storages); each page runs a Kadmium peer and a bare libp2p node with
 * gossipsub alone. Each page dials the other's nodes at their relayed
 * WebRTC addresses: the connections are direct WebRTC ones. The server
 * stays up (the Kadmium peers' DHT puts go to it) but is subscribed to
 * neither topic: every sample travels the direct connection.
 *
 * A sample: one side sends (Kadmium: `update` of one todo's title; bare:
 * `publish` of random bytes the size of Kadmium's envelope), the other
 * notes when it arrived (Kadmium: its `subscribe` callback; bare: the
 * `message` event). Samples go both ways in turn, and a pair's value is the
 * mean of its two directions, so that any offset between the two pages'
 * clocks cancels out. Every sample follows {@link PAUSE_MS} of quiet, as in
 * the Node `propagation` scenario.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { WEBRTC_LOOPBACK_ARGS } from '../../packages/browser-adapter/test/fixtures/chromium.ts'
import { startKadmiumServe, type KadmiumServe } from '../../packages/browser-adapter/test/fixtures/kadmium-serve.ts'
import { startBenchBrowser, type BenchBrowser, type BenchPage } from './browser-chromium.ts'
import type { PeerActions, Which } from './browser-protocol.ts'

/** The environment variable holding this script's parameters (JSON {@link WebrtcParams}). */
export const PARAMS_ENV = 'KADMIUM_BENCH_BROWSER_WEBRTC'
/** What the result line starts with. */
export const RESULT_PREFIX = 'BROWSER_WEBRTC_RESULT'

/** Parameters of a run. */
export interface WebrtcParams {
  /** The page's file (`bench/browser/peer.page.ts`). */
  readonly entry: string
  /** Pairs of samples of each variant in fresh pages, before any warm-up. */
  readonly fresh: number
  /** Samples of each variant back to back, unmeasured (warm-up). */
  readonly warmup: number
  /** Measured rounds after the warm-up, and pairs of each variant per round. */
  readonly rounds: number
  readonly perRound: number
  /** The whole run's bound (ms): past it, the script cleans up and exits. */
  readonly boundMs: number
}

/** One pair of samples: each direction (ms), and their mean. */
export interface Pair {
  readonly ab: number
  readonly ba: number
  readonly mean: number
}

/** What a run measured. */
export interface WebrtcResult {
  /** Pairs taken first, in pages that just loaded. */
  readonly fresh: Readonly<Record<Which, readonly Pair[]>>
  /** Measured rounds after the warm-up: per round, its pairs. */
  readonly warm: Readonly<Record<Which, ReadonlyArray<readonly Pair[]>>>
  /** The bare payload's size: the median Kadmium envelope (bytes). */
  readonly payloadBytes: number
  /** Whether both gossipsub meshes had formed before the first sample. */
  readonly meshes: boolean
  readonly warmupSeconds: number
}

const WAIT_MS = 30_000
const SAMPLE_BOUND_MS = 10_000
/** Quiet before every measured sample (ms), as the Node `propagation` scenario. */
export const PAUSE_MS = 150

const progress = (line: string): void => { process.stderr.write(`browser webrtc: ${line}\n`) }

/** What to stop should the run overrun its bound: set while it runs. */
let stopAll: (() => Promise<void>) | undefined

async function main (params: WebrtcParams): Promise<WebrtcResult> {
  let relay: KadmiumServe | undefined
  let browser: BenchBrowser | undefined
  const pages: Array<BenchPage<PeerActions>> = []
  const stop = async (): Promise<void> => {
    await Promise.allSettled(pages.splice(0).map(async (page) => page.act('close')))
    await browser?.close().catch((error: unknown) => { progress(`closing Chromium: ${String(error)}`) })
    await relay?.stop().catch((error: unknown) => { progress(`stopping kadmium serve: ${String(error)}`) })
  }
  stopAll = stop
  try {
    relay = await startKadmiumServe()
    browser = await startBenchBrowser({ peer: params.entry }, WEBRTC_LOOPBACK_ARGS)
    const a = await browser.open<PeerActions>('peer')
    pages.push(a)
    const b = await browser.open<PeerActions>('peer')
    pages.push(b)
    const pa = await a.act('start', { bootstrap: relay.ws, label: 'a' }, WAIT_MS)
    const pb = await b.act('start', { bootstrap: relay.ws, label: 'b' }, WAIT_MS)
    await b.act('connect', pa, WAIT_MS)
    const { address, id } = await a.act('create', 'bench-propagation')
    await b.act('open', address, id, WAIT_MS)
    await a.act('watch', id)
    await b.act('watch', id)
    const meshes = (await a.act('ready', pb, WAIT_MS)) && (await b.act('ready', pa, WAIT_MS))
    progress(`pages connected over direct WebRTC; meshes ${meshes ? 'formed' : 'not formed within the bound'}`)

    let seq = 0
    let payload = 200
    const one = async (which: Which, from: BenchPage<PeerActions>, to: BenchPage<PeerActions>): Promise<number> => {
      const n = ++seq
      const sent = await from.act('send', which, n, payload)
      const at = await to.act('arrival', which, n, SAMPLE_BOUND_MS)
      return at - sent
    }
    const pair = async (which: Which, pause: boolean): Promise<Pair> => {
      if (pause) await sleep(PAUSE_MS)
      const ab = await one(which, a, b)
      if (pause) await sleep(PAUSE_MS)
      const ba = await one(which, b, a)
      return { ab, ba, mean: (ab + ba) / 2 }
    }
    // Kadmium first: its envelopes give the bare payload's size.
    const fresh: Record<Which, Pair[]> = { kadmium: [], bare: [] }
    fresh.kadmium.push(await pair('kadmium', true))
    payload = Math.max(await a.act('envelopeBytes'), await b.act('envelopeBytes'))
    fresh.bare.push(await pair('bare', true))
    for (let i = 1; i < params.fresh; i++) {
      fresh.kadmium.push(await pair('kadmium', true))
      fresh.bare.push(await pair('bare', true))
    }
    progress(`${params.fresh} pairs of each in fresh pages`)
    const warmStart = performance.now()
    for (const which of ['kadmium', 'bare'] as const) {
      for (let i = 0; i < params.warmup; i += 2) await pair(which, false)
    }
    const warmupSeconds = (performance.now() - warmStart) / 1000
    progress(`warm-up: ${params.warmup} samples of each back to back in ${warmupSeconds.toFixed(1)} s`)
    const warm: Record<Which, Pair[][]> = { kadmium: [], bare: [] }
    for (let round = 0; round < params.rounds; round++) {
      // The variants' order alternates between rounds.
      const order: Which[] = round % 2 === 0 ? ['kadmium', 'bare'] : ['bare', 'kadmium']
      for (const which of order) {
        const pairs: Pair[] = []
        for (let i = 0; i < params.perRound; i++) pairs.push(await pair(which, true))
        warm[which].push(pairs)
      }
      progress(`round ${round + 1}/${params.rounds}`)
    }
    return { fresh, warm, payloadBytes: payload, meshes, warmupSeconds }
  } finally {
    await stop()
  }
}

if (import.meta.main) {
  const params = JSON.parse(process.env[PARAMS_ENV] ?? 'null') as WebrtcParams | null
  if (params === null) throw new Error(`${PARAMS_ENV} is not set`)
  // Past the bound the script stops what it started (20 s at most) and exits.
  const timer = setTimeout(() => {
    progress(`still running after ${params.boundMs} ms; stopping`)
    const exit = (): never => process.exit(3)
    setTimeout(exit, 20_000).unref()
    void (stopAll?.() ?? Promise.resolve()).finally(exit)
  }, params.boundMs)
  timer.unref()
  const result = await main(params)
  process.stdout.write(`${RESULT_PREFIX} ${JSON.stringify(result)}\n`)
  process.exit(0)
}
