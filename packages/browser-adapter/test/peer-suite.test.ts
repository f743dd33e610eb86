/**
 * `@kadmium/core/testing`'s peer conformance suite (`peerTests`) on
 * `browserPeer()` in a real Chromium: every case runs in a page
 * (`browser/peer-suite.page.ts`) whose harness makes browser peers with
 * IndexedDB storage, all of a case's peers in that one page, connected to
 * each other over direct WebRTC connections that a circuit relay signals
 * (what two browsers have: neither can listen). That needs a network
 * namespace (loopback alone gives Chromium no ICE candidate pair; see
 * `fixtures/network-namespace.ts`), so the cases run in
 * `fixtures/peer-suite-netns.ts` inside one, and each is reported here as
 * a test of its own from that run's TAP. It fails, never skips, where no
 * namespace can be made.
 *
 * The harness runs the suite in two modes (`PeerSuiteMode`):
 * - `serve`: every peer bootstraps to one real `kadmium serve`, its relay
 *   and DHT server (a browser peer is a DHT client), and stays connected
 *   to it, as an app's peers do;
 * - `relay`: every peer gets a Node relay of its own (no DHT) only until
 *   the suite connects it, so that a peer is connected to the suite's
 *   peers and no one else, as the suite's harness contract has it (a
 *   connect resolves once the dialer's side is open, as the suite's own
 *   does; the relays it went through are stopped meanwhile).
 *
 * Each mode runs every case but one, which only the other mode can run
 * (`fixtures/peer-suite-plan.ts` says why): the closing case expects a
 * peer whose only peer left to be offline, which a browser connected to
 * its serve is not; the DHT case needs a DHT server, which the relay mode
 * has not. The process exit check is left out by the suite itself: a page
 * has no process to exit (the harness has no `exitsCleanly`).
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { before, describe, test } from 'node:test'
import { runInNetworkNamespace, type NamespaceRun } from './fixtures/network-namespace.ts'
import { LEFT_OUT, LEFT_OUT_REASON, plannedCases } from './fixtures/peer-suite-plan.ts'

const RUN = join(import.meta.dirname, 'fixtures', 'peer-suite-netns.ts')
/** The run's own bounds are shorter (each case 3 minutes at most, each wait in it 30 s): this one only catches a hang. */
const BOUND_MS = 600_000

/** How one test of the run ended, by its name: whether it passed (or was skipped), and its TAP lines. */
interface Result {
  readonly ok: boolean
  readonly detail: string
}

/** The top-level tests of a node:test TAP report (`ok 1 - name`, `not ok 2 - name` and the lines under each). */
function parseTap (output: string): Map<string, Result> {
  const results = new Map<string, Result>()
  let current: { name: string, ok: boolean, lines: string[] } | undefined
  const settle = (): void => {
    if (current !== undefined) results.set(current.name, { ok: current.ok, detail: current.lines.join('\n') })
    current = undefined
  }
  for (const line of output.split('\n')) {
    const head = /^(not )?ok \d+ - (.*?)(?: # (?:SKIP|TODO)\b.*)?$/.exec(line)
    if (head !== null) {
      settle()
      current = { name: (head[2] as string).replace(/\\(.)/g, '$1'), ok: head[1] === undefined, lines: [line] }
    } else if (current !== undefined && /^\s/.test(line)) {
      current.lines.push(line)
    } else {
      settle()
    }
  }
  settle()
  return results
}

describe('core\'s peer conformance suite on browserPeer in Chromium, in a network namespace', () => {
  const planned = plannedCases()
  let run: NamespaceRun
  let results = new Map<string, Result>()

  before(async () => {
    run = await runInNetworkNamespace(RUN, BOUND_MS)
    results = parseTap(run.output)
  }, { timeout: BOUND_MS + 30_000 })

  test('the run ended by itself and reported every case of both modes', () => {
    assert.notEqual(run.code, null, run.output)
    const missing = planned.filter((c) => !results.has(c.title)).map((c) => c.title)
    assert.deepEqual(missing, [], `cases the run did not report:\n${run.output}`)
    // A failure outside the cases (Chromium or the serve not starting, a hook failing) fails the run too.
    if (planned.every((c) => results.get(c.title)?.ok === true)) assert.equal(run.code, 0, run.output)
  })

  for (const c of planned) {
    if (c.skip !== undefined) {
      test(c.title, { skip: c.skip }, () => {})
      continue
    }
    test(c.title, () => {
      const result = results.get(c.title)
      assert.ok(result !== undefined, `the run did not report the case:\n${run.output}`)
      assert.ok(result.ok, `the case failed in the page:\n${result.detail}`)
    })
  }

  for (const name of LEFT_OUT) test(name, { skip: LEFT_OUT_REASON }, () => {})
})
