/**
 * The test page of `@kadmium/core/testing`'s peer conformance suite on
 * `browserPeer()`: every peer of a case lives in this page (one browser
 * context), each with a peer store and IndexedDB storages of its own
 * (named after the peer), and talks to the others over direct WebRTC
 * connections signalled through a circuit relay. How the peers get a
 * relay is the page's mode (see {@link PeerSuiteMode}), set by the Node
 * side before it runs a case. Runs in the browser: no Node.js module.
 * @module
 */
import type { Peer } from '@kadmium/core'
import { peerTests, type PeerHarness } from '@kadmium/core/testing'
import { browserPeer, deleteIndexedDbStorage, indexedDbStorage, type BrowserPeer } from '@kadmium/browser'
import { exposePage } from '../fixtures/browser/expose.ts'
import { PEER_GROUP, START_RELAY, STOP_RELAY, type PeerSuiteMode, type RelayInfo } from '../fixtures/peer-suite-protocol.ts'

/**
 * The harness's longest wait for a condition (the suite's default is 20 s):
 * a page with up to five peers and their WebRTC connections, on a machine
 * that runs other tests too.
 */
const WAIT_MS = 30_000
/** Polling period of the page's own waits (ms). */
const POLL_MS = 25
/** Dial attempts of one connect (a WebRTC dial through a relay sometimes fails once). */
const DIAL_ATTEMPTS = 5

/** The functions the Node side exposes to the page in `relay` mode. */
interface NodeFunctions {
  readonly [START_RELAY]?: () => Promise<RelayInfo>
  readonly [STOP_RELAY]?: (peerId: string) => Promise<void>
}

let mode: PeerSuiteMode | undefined
/** The peers of the case running, by the object the suite holds. */
const peers = new Map<Peer, BrowserPeer>()
/** IndexedDB databases the case's peers made (peer stores, storages): deleted after it. */
const databases = new Set<string>()
/** Peer ids of the relays started for the case (`relay` mode). */
const relays = new Set<string>()

function theMode (): PeerSuiteMode {
  if (mode === undefined) throw new Error('configure the page first')
  return mode
}

function browserOf (peer: Peer): BrowserPeer {
  const found = peers.get(peer)
  if (found === undefined) throw new Error('not a peer of this harness')
  return found
}

function nodeFunction<K extends keyof NodeFunctions> (name: K): NonNullable<NodeFunctions[K]> {
  const fn = (globalThis as NodeFunctions)[name]
  if (fn === undefined) throw new Error(`the Node side exposed no ${name} to the page`)
  return fn
}

/** Resolves once `check` holds; rejects naming `what` (and the state `state` describes) after {@link WAIT_MS}. */
async function waitUntil (what: string, check: () => boolean, state?: () => string): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}${state === undefined ? '' : ` (${state()})`}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

/**
 * The peer's WebRTC address through a relay (`<relay>/p2p-circuit/webrtc/p2p/<peer>`), if it holds a reservation;
 * in `relay` mode only through a relay still running.
 */
function webRTCAddress (peer: BrowserPeer): string | undefined {
  const live = (address: string): boolean => theMode().kind === 'serve' || [...relays].some((id) => address.includes(`/p2p/${id}/p2p-circuit/`))
  return peer.multiaddrs.map(String).find((a) => a.includes('/p2p-circuit/webrtc/') && live(a))
}

/** Whether `a` has an open direct (unlimited) connection to `b`. */
function directlyConnected (a: BrowserPeer, b: BrowserPeer): boolean {
  return a.libp2p.getConnections(b.peerId).some((c) => c.limits === undefined && c.status === 'open')
}

/** `relay` mode: a fresh relay from the Node side, a reservation on it, and the address other browsers dial the peer at. */
async function listenThroughNewRelay (peer: BrowserPeer): Promise<void> {
  const relay = await nodeFunction(START_RELAY)()
  relays.add(relay.peerId)
  await peer.dial(relay.addresses[0] as string)
  await waitUntil(`a reservation of ${peer.peerId.toString()} on relay ${relay.peerId}`, () => webRTCAddress(peer)?.includes(relay.peerId) === true,
    () => `addresses: ${peer.multiaddrs.map(String).join(', ') || 'none'}`)
}

/**
 * `relay` mode: retires the relays `held` are connected to at once (no later connect dials through them), then,
 * once `dialed` holds its side of the new connection (the relay's signalling done), stops them and waits until
 * `held` see those connections closed.
 */
function retireRelaysOf (dialed: { from: BrowserPeer, to: BrowserPeer }, ...held: BrowserPeer[]): Promise<void> {
  const used = new Set<string>()
  for (const peer of held) {
    for (const c of peer.libp2p.getConnections()) {
      const id = c.remotePeer.toString()
      if (relays.has(id)) used.add(id)
    }
  }
  for (const id of used) relays.delete(id)
  return (async () => {
    await waitUntil('the dialed peer to hold the direct connection too', () => directlyConnected(dialed.to, dialed.from))
    for (const id of used) await nodeFunction(STOP_RELAY)(id)
    const left = (): string[] => held.flatMap((peer) => peer.libp2p.getConnections().filter((c) => used.has(c.remotePeer.toString())).map((c) => c.remoteAddr.toString()))
    await waitUntil('the peers to see their relays gone', () => left().length === 0, () => `connections left: ${left().join(', ')}`)
  })()
}

/** `relay` mode: relays being stopped in the background (see {@link retireRelaysOf}); the case's cleanup waits for them. */
const retiring: Array<Promise<void>> = []

const harness: PeerHarness = {
  waitMs: WAIT_MS,
  create: async (name) => {
    const current = theMode()
    const peerStore = `peer-suite/${name}`
    databases.add(peerStore)
    const peer = await browserPeer({
      network: 'local',
      // No STUN server: ICE finds the host's own address.
      rtcConfiguration: { iceServers: [] },
      bootstrap: current.kind === 'serve' ? current.bootstrap : [],
      peerStore,
      storage: (db) => {
        const storage = `peer-suite/${name}/${db}`
        databases.add(storage)
        return indexedDbStorage(storage)
      }
    })
    peers.set(peer, peer)
    try {
      // Listening, as the suite requires of a new peer: a reservation on a relay, and a WebRTC address through it.
      if (current.kind === 'relay') await listenThroughNewRelay(peer)
      else await waitUntil(`${name} to hold a reservation on the kadmium serve`, () => webRTCAddress(peer) !== undefined, () => `connections: ${peer.status.connections}`)
    } catch (error) {
      await peer.close()
      throw error
    }
    return peer
  },
  connect: async (a, b) => {
    const dialer = browserOf(a)
    const target = browserOf(b)
    if (theMode().kind === 'relay' && webRTCAddress(target) === undefined) await listenThroughNewRelay(target)
    const address = webRTCAddress(target)
    if (address === undefined) throw new Error(`${target.peerId.toString()} has no WebRTC address to be dialed at`)
    // browserPeer's own dial, with its retries: WebRTC signalled through the relay, a direct connection.
    const connection = await dialer.dial(address, { attempts: DIAL_ATTEMPTS })
    if (connection.limits !== undefined) throw new Error(`dialing ${address} gave a relayed (limited) connection, not a direct WebRTC one`)
    if (theMode().kind === 'relay') {
      // Resolved once the connection is open on the dialer's side, as the suite's own connect is: the relays go
      // meanwhile (a case that looks for connections to anyone but its peers does so much later, after waits of its own).
      const retired = retireRelaysOf({ from: dialer, to: target }, dialer, target)
      retired.catch(() => {}) // reported by cleanup
      retiring.push(retired)
    }
  },
  cleanup: async () => {
    const retired = await Promise.allSettled(retiring.splice(0))
    // The suite closed the case's peers (and so their storages and peer stores) already.
    const running = [...peers.values()].filter((p) => p.libp2p.status !== 'stopped').map((p) => p.peerId.toString())
    peers.clear()
    const left = [...relays]
    relays.clear()
    if (left.length > 0) await Promise.all(left.map(async (id) => { await nodeFunction(STOP_RELAY)(id) }))
    const names = [...databases]
    databases.clear()
    for (const name of names) await deleteIndexedDbStorage(name)
    if (running.length > 0) throw new Error(`peers still running after the suite closed them: ${running.join(', ')}`)
    const failed = retired.find((r) => r.status === 'rejected')
    if (failed !== undefined) throw new Error('a relay was not retired after a connect', { cause: failed.reason })
  }
}

/** What the Node side may ask of this page. */
export const actions = {
  /** Sets how the harness's peers reach each other, for the cases run next. */
  configure: async (given: PeerSuiteMode): Promise<void> => {
    mode = given
  }
}

exposePage({ cases: { [PEER_GROUP]: peerTests(harness) }, actions })
