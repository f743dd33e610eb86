import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { nodePeer } from '@kadmium/node'
import { PeerSandbox, waitFor } from './fixtures/peers.ts'

const TEST_TIMEOUT = { timeout: 30_000 }
const WEBRTC_DIRECT_PROCESS = join(import.meta.dirname, 'fixtures', 'webrtc-direct-process.ts')
/** How long such a process may take, start to exit (it takes a second or two). */
const EXIT_BOUND_MS = 25_000

/** Runs a TypeScript file as a process; kills it if it has not exited after `boundMs`. */
async function runProcess (file: string, args: readonly string[], boundMs: number): Promise<{ exited: boolean, code: number | null, output: string }> {
  const child = spawn(process.execPath, ['--conditions=development', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const closed = new Promise<number | null>((resolve) => { child.once('close', resolve) })
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<'hung'>((resolve) => { timer = setTimeout(() => { resolve('hung') }, boundMs) })
  try {
    const ended = await Promise.race([closed, bound])
    if (ended !== 'hung') return { exited: true, code: ended, output }
    child.kill('SIGKILL')
    await closed
    return { exited: false, code: null, output }
  } finally {
    clearTimeout(timer)
  }
}

describe('nodePeer: transports', () => {
  const sandbox = new PeerSandbox()
  after(() => sandbox.close())

  test('memory: two peers on /memory addresses connect', TEST_TIMEOUT, async () => {
    const a = await sandbox.peer('memory-a', { listen: [`/memory/kadmium-${randomUUID()}`] })
    const b = await sandbox.peer('memory-b', { listen: [`/memory/kadmium-${randomUUID()}`] })
    const address = a.multiaddrs.find((m) => m.toString().startsWith('/memory/'))
    assert.ok(address !== undefined, 'A listens on its memory address')
    const connection = await b.dial(address)
    assert.ok(connection.remotePeer.equals(a.peerId))
    assert.match(connection.remoteAddr.toString(), /^\/memory\//)
    await waitFor('A to see the connection', () => a.libp2p.getConnections(b.peerId).length > 0)
  })

  test('memory: a peer that only dials memory addresses bootstraps from one', TEST_TIMEOUT, async () => {
    const a = await sandbox.peer('memory-boot-a', { listen: [`/memory/kadmium-${randomUUID()}`] })
    const address = a.multiaddrs[0]
    assert.ok(address !== undefined)
    const b = await sandbox.peer('memory-boot-b', { listen: [], bootstrap: [address.toString()] })
    await waitFor('B to connect to A', () => b.libp2p.getConnections(a.peerId).length > 0)
  })

  test('WebSockets: a peer dials the other\'s /ws address on 127.0.0.1', TEST_TIMEOUT, async () => {
    const a = await sandbox.peer('ws-a', { listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    const b = await sandbox.peer('ws-b')
    const address = a.multiaddrs.find((m) => m.toString().includes('/ws/'))
    assert.ok(address !== undefined, 'A listens on a WebSockets address')
    assert.match(address.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//)
    const connection = await b.dial(address.toString())
    assert.ok(connection.remotePeer.equals(a.peerId))
    assert.match(connection.remoteAddr.toString(), /\/ws\//)
  })

  test('WebRTC-Direct: a peer dials the other\'s /webrtc-direct address on 127.0.0.1 (UDP), certificate hash included', TEST_TIMEOUT, async () => {
    const a = await sandbox.peer('webrtc-direct-a', { listen: ['/ip4/127.0.0.1/udp/0/webrtc-direct'] })
    const address = a.multiaddrs.find((m) => m.toString().includes('/webrtc-direct/'))
    assert.ok(address !== undefined, `A listens on a WebRTC-Direct address: ${a.multiaddrs.join(', ')}`)
    assert.match(address.toString(), /^\/ip4\/127\.0\.0\.1\/udp\/\d+\/webrtc-direct\/certhash\/[\w-]+\/p2p\//)
    // B listens on TCP only: dialing a WebRTC-Direct bootstrap address brings the transport.
    const b = await sandbox.peer('webrtc-direct-b', { bootstrap: [address.toString()] })
    await waitFor('B to connect to A over WebRTC-Direct', () => b.libp2p.getConnections(a.peerId).some((c) => c.remoteAddr.toString().includes('/webrtc-direct/')))
    assert.ok((await b.libp2p.services.ping.ping(a.peerId, { signal: AbortSignal.timeout(5_000) })) >= 0)
  })

  test('WebRTC-Direct: the certificate (its hash in the address) outlives a restart on the same data directory', TEST_TIMEOUT, async () => {
    const dataDir = await sandbox.dir('webrtc-direct-restart')
    const certhash = (peer: { multiaddrs: ReadonlyArray<{ toString: () => string }> }): string | undefined =>
      peer.multiaddrs.map(String).map((a) => /\/certhash\/([\w-]+)\//.exec(a)?.[1]).find((h) => h !== undefined)
    const first = await nodePeer({ dataDir, listen: ['/ip4/127.0.0.1/udp/0/webrtc-direct'], mdns: false, network: 'local' })
    const before = certhash(first)
    await first.close()
    const again = await sandbox.peer('webrtc-direct-restart', { listen: ['/ip4/127.0.0.1/udp/0/webrtc-direct'] })
    assert.ok(before !== undefined)
    assert.equal(certhash(again), before)
  })

  test('WebRTC-Direct: a process whose peers used it ends by itself once they closed (three runs)', { timeout: 90_000 }, async () => {
    // node-datachannel's threads held such a process open about every other run.
    for (let run = 1; run <= 3; run++) {
      const ended = await runProcess(WEBRTC_DIRECT_PROCESS, [await sandbox.dir(`webrtc-direct-process-${run}`)], EXIT_BOUND_MS)
      assert.equal(ended.exited, true, `run ${run}: still running ${EXIT_BOUND_MS} ms after it started: ${ended.output}`)
      assert.equal(ended.code, 0, `run ${run}: ${ended.output}`)
      assert.match(ended.output, /closed/)
    }
  })

  test('TCP and WebSockets side by side, as by default', TEST_TIMEOUT, async () => {
    const a = await sandbox.peer('both', { listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] })
    const texts = a.multiaddrs.map(String)
    assert.ok(texts.some((t) => /\/tcp\/\d+\/p2p\//.test(t)), 'a TCP address')
    assert.ok(texts.some((t) => /\/tcp\/\d+\/ws\/p2p\//.test(t)), 'a WebSockets address')
  })
})
