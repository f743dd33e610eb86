/**
 * `@kadmium/core/testing`'s peer conformance suite on `nodePeer()`, once
 * over loopback TCP and once over the in-process memory transport.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { peerTests, type ExitReport, type PeerHarness } from '@kadmium/core/testing'
import { nodePeer } from '@kadmium/node'

type Transport = 'tcp' | 'memory'

/** The child process of the exit check. */
const ROUND_TRIP_PROCESS = join(import.meta.dirname, 'fixtures', 'peer-round-trip-process.ts')
/** How long the exit check's process may take, start to exit, before it counts as hung (a round trip takes a few seconds). */
const EXIT_BOUND_MS = 60_000
/** Per case: the suite polls each condition for at most 20 s. */
const CASE_TIMEOUT = { timeout: 90_000 }

/** What every listening address of a peer on `transport` looks like: 127.0.0.1 or memory, nothing else. */
const ADDRESS: Record<Transport, RegExp> = {
  tcp: /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\w+$/,
  memory: /^\/memory\/[\w-]+\/p2p\/\w+$/
}

/** nodePeers on `transport`, in data directories under a temporary directory removed after each case. */
function nodeHarness (transport: Transport): PeerHarness {
  let root: string | undefined
  return {
    create: async (name) => {
      root ??= await mkdtemp(join(tmpdir(), 'kadmium-peer-conformance-'))
      const peer = await nodePeer({
        dataDir: join(root, name),
        listen: transport === 'memory' ? [`/memory/kadmium-${name}-${randomUUID()}`] : ['/ip4/127.0.0.1/tcp/0'],
        mdns: false,
        network: 'local'
      })
      const addresses = peer.multiaddrs.map(String)
      if (addresses.length === 0 || !addresses.every((a) => ADDRESS[transport].test(a))) {
        await peer.close()
        throw new Error(`a ${transport} peer must listen on ${transport} addresses only, not ${addresses.join(', ')}`)
      }
      return peer
    },
    cleanup: async () => {
      if (root !== undefined) await rm(root, { recursive: true, force: true })
      root = undefined
    },
    exitsCleanly: async () => runRoundTripProcess(transport)
  }
}

/** Runs the round trip in a child process; kills it if it has not exited after {@link EXIT_BOUND_MS}. */
async function runRoundTripProcess (transport: Transport): Promise<ExitReport> {
  const root = await mkdtemp(join(tmpdir(), 'kadmium-round-trip-'))
  try {
    const child = spawn(process.execPath, ['--conditions=development', ROUND_TRIP_PROCESS, transport, root], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const closed = new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code) => { resolve(code) })
    })
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<'hung'>((resolve) => { timer = setTimeout(() => { resolve('hung') }, EXIT_BOUND_MS) })
    try {
      const ended = await Promise.race([closed, bound])
      if (ended !== 'hung') return { exited: true, code: ended, output }
      child.kill('SIGKILL')
      await closed
      return { exited: false, code: null, output: `${output}(still running after ${EXIT_BOUND_MS} ms: killed)` }
    } finally {
      clearTimeout(timer)
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

for (const transport of ['tcp', 'memory'] as const) {
  describe(`nodePeer over ${transport}: peer conformance`, () => {
    const cases = peerTests(nodeHarness(transport))
    test('the suite runs every case, the exit check included', () => {
      assert.ok(cases.length >= 7, `${cases.length} cases`)
      assert.ok(cases.some((c) => c.name.includes('exits by itself')), 'the exit check is not left out')
    })
    for (const c of cases) test(c.name, CASE_TIMEOUT, c.fn)
  })
}
