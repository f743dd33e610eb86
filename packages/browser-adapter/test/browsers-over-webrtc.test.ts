/**
 * Two browsers connect directly over WebRTC through a `kadmium serve`
 * relay (one dialing the other, a relayed connection upgraded, or by
 * themselves once they hold one database) and keep syncing once it stopped: netns/browsers-over-webrtc.netns.ts,
 * run inside a network namespace of its own (loopback alone gives
 * Chromium no ICE candidate pair; the machine's own interfaces are not
 * the test's to use). It fails, never skips, where no namespace can be
 * made.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { runInNetworkNamespace } from './fixtures/network-namespace.ts'

const SCENARIO = join(import.meta.dirname, 'netns', 'browsers-over-webrtc.netns.ts')
/** The scenario's own bounds are shorter: this one only catches a hang. */
const BOUND_MS = 240_000

test('two browsers over WebRTC through a relay, then without it (in a network namespace)', { timeout: BOUND_MS + 30_000 }, async () => {
  const run = await runInNetworkNamespace(SCENARIO, BOUND_MS)
  assert.equal(run.code, 0, run.output)
  assert.match(run.output, /^# pass 4$/m, run.output)
  assert.match(run.output, /^# fail 0$/m, run.output)
})
