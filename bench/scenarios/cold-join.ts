/**
 * Cold join: what a user meets first. A fresh app process starts, opens a
 * shared database by its address, and shows the data.
 *
 * Each round starts a fresh OS process per joiner (`bench/lib/cold-join-child.ts`,
 * `node --conditions=development`, a fresh data directory), which reports
 * its timings from its own process start (`performance.now()`):
 *
 * - Kadmium (`cold-join-kadmium.ts`): `nodePeer({ bootstrap: [writer] })`
 *   ("node started" when it resolved), then at once, no retry,
 *   `createDatabase({ address, peer })`, then a live query of the
 *   collection; done when its callback sees N rows. The writer, in this
 *   process, is a fresh `nodePeer` per round holding N records (inserted
 *   and in its LevelDB before the joiner is spawned).
 * - OrbitDB 4 (`cold-join-orbitdb.ts`): `startOrbitNode()` (libp2p, Helia,
 *   OrbitDB), dial the writer, `orbitdb.open(address)`, done when it holds
 *   N documents. The writer, in this process, holds the same N records as
 *   documents (one writer per size: OrbitDB writes some 300 a second).
 * - The raw limit (`cold-join-raw.ts`): one bare libp2p node, which dials
 *   a bare server node in this process holding the N records as raw Yjs
 *   updates, reads them on one stream and applies each to a `Y.Doc`; done
 *   at the last one applied.
 *
 * The headline is "node started → all readable"; process start → all
 * readable and the split (node started → open resolved → all readable)
 * are reported too. Rounds are interleaved (the order rotates), so that
 * OrbitDB ÷ Kadmium and Kadmium ÷ raw pair up by round; OrbitDB, seconds
 * to minutes a round, runs in the first rounds only.
 * @module
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { newId } from '@kadmium/core'
import { QUICK_WATCHDOG_MS } from '../lib/budget.ts'
import { JOIN_RESULT, type JoinArgs, type JoinMode, type JoinTimes } from '../lib/cold-join-protocol.ts'
import { frame } from '../lib/raw-frames.ts'
import { serveRaw } from '../lib/cold-join-raw.ts'
import { encodeRecord, insertConcurrently, todos, type Todo } from '../lib/fixtures.ts'
import { interleave, resultsOf, type Variant } from '../lib/interleave.ts'
import { withSandbox } from '../lib/net.ts'
import { createOrbitDocuments, startOrbitNode } from '../lib/orbitdb.ts'
import { openShared, startPeer, withCleanup } from '../lib/peers.ts'
import { findRow, fmt, target, valueRow, type ResultRow, type TargetResult } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { median, pairedRatio } from '../lib/stats.ts'
import { makeTempDir, removeTempDir } from '../lib/tempdir.ts'
import { guard } from '../lib/wait.ts'

const CHILD = fileURLToPath(new URL('../lib/cold-join-child.ts', import.meta.url))
/** How long after a joiner's own time limit the bench kills it (the joiner says where it was first). */
const KILL_GRACE_MS = 5_000

const K_HEAD = 'Kadmium: node started → all readable'
const B_HEAD = 'raw libp2p + Yjs: node started → all applied'
const O_HEAD = 'OrbitDB: node started → all documents'
const K_TOTAL = 'Kadmium: process start → all readable'
const B_TOTAL = 'raw libp2p + Yjs: process start → all applied'
const O_TOTAL = 'OrbitDB: process start → all documents'
const K_START = 'Kadmium: process start → node started'
const K_OPEN = 'Kadmium: node started → open resolved'
const K_CATCH_UP = 'Kadmium: open resolved → all readable'
const O_OPEN = 'OrbitDB: node started → open resolved (dial included)'
const O_CATCH_UP = 'OrbitDB: open resolved → all documents'

const KADMIUM = 'kadmium'
const ORBIT = 'orbitdb'
const RAW = 'raw'

/** A joiner's timings, and when it started relative to the bench's spawn. */
interface Joined extends JoinTimes {
  /** The joiner's time origin minus when the bench called `spawn` (ms): the exec and Node's start before `performance.timeOrigin`. */
  readonly spawnGapMs: number
}

/** Runs one joiner in a fresh process with a fresh directory (removed afterwards, however the process ended). */
async function runJoiner (args: Omit<JoinArgs, 'dir' | 'timeoutMs'>, timeoutMs: number, log: (line: string) => void): Promise<Joined> {
  const dir = makeTempDir(`cold-join-${args.mode}`)
  try {
    return await spawnJoiner({ ...args, dir, timeoutMs }, log)
  } finally {
    await removeTempDir(dir)
  }
}

/**
 * `node --conditions=development cold-join-child.ts <args>`, its TMPDIR in
 * `args.dir`; resolves its result line. Rejects, with its last output, if
 * it fails or has not ended `KILL_GRACE_MS` after its own time limit (it
 * is killed then).
 */
function spawnJoiner (args: JoinArgs, log: (line: string) => void): Promise<Joined> {
  const label = `${args.mode} joiner (${fmt(args.records, 0)} records)`
  return new Promise<Joined>((resolve, reject) => {
    const spawnedAt = performance.timeOrigin + performance.now()
    const child = spawn(process.execPath, ['--conditions=development', CHILD, JSON.stringify(args)], {
      // stdin stays open and unwritten: the joiner exits when it ends, that is when this process is gone.
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: args.dir }
    })
    const tail: string[] = []
    const said = (line: string): void => {
      tail.push(line)
      if (tail.length > 25) tail.shift()
      log(`cold-join ${args.mode} joiner: ${line}`)
    }
    let partial = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) said(line)
    })
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => { out += chunk })
    let killed = false
    const limit = args.timeoutMs + KILL_GRACE_MS
    const timer = setTimeout(() => {
      killed = true
      child.kill('SIGKILL')
    }, limit)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (partial !== '') said(partial)
      const lines = out.split('\n')
      const line = lines.find((l) => l.startsWith(JOIN_RESULT))
      for (const other of lines) if (other !== line && other !== '') said(other)
      const last = tail.length === 0 ? '' : `; its last output:\n    ${tail.join('\n    ')}`
      if (killed) {
        reject(new Error(`the ${label} did not end within ${fmt(limit / 1000, 0)} s; killed${last}`))
      } else if (code !== 0 || line === undefined) {
        reject(new Error(`the ${label} failed (exit ${String(code ?? signal)})${last}`))
      } else {
        const times = JSON.parse(line.slice(JOIN_RESULT.length)) as JoinTimes
        resolve({ ...times, spawnGapMs: times.timeOrigin - spawnedAt })
      }
    })
  })
}

/** A Kadmium round: a fresh writer with the N records, then a fresh joiner process. */
async function kadmiumRound (records: readonly Todo[], timeoutMs: number, log: (line: string) => void): Promise<Joined> {
  return withCleanup(log, async (cleanup) => {
    const a = await startPeer('writer', cleanup)
    const writer = await openShared(a, cleanup)
    await insertConcurrently(writer.todos, records)
    await writer.settled()
    const address = a.multiaddrs[0]
    if (address === undefined) throw new Error('the writer listens on no address')
    return runJoiner({ mode: 'kadmium', writer: [address.toString()], address: writer.db.address, records: records.length }, timeoutMs, log)
  })
}

/** The joiner's time limit: generous for a healthy build, finite for a broken one. */
function joinTimeoutMs (mode: JoinMode, n: number, quick: boolean): number {
  if (quick) return mode === 'orbitdb' ? 40_000 : 25_000
  if (mode === 'orbitdb') return n >= 10_000 ? 600_000 : 120_000
  return n >= 10_000 ? 120_000 : 60_000
}

const since = (from: (t: Joined) => number, to: (t: Joined) => number) => (list: readonly Joined[]): number[] => list.map((t) => to(t) - from(t))
const origin = (): number => 0
const nodeStarted = (t: Joined): number => t.nodeStartedAt
const opened = (t: Joined): number => t.openedAt
const readable = (t: Joined): number => t.readableAt
const headline = since(nodeStarted, readable)
const total = since(origin, readable)

/** The median of `field − nodeStartedAt` over the rounds that have the field, as text (`missing` if none has). */
function fromNodeStart (list: readonly Joined[], field: (t: Joined) => number | undefined, missing = 'not seen'): string {
  const values = list.flatMap((t) => { const v = field(t); return v === undefined ? [] : [v - t.nodeStartedAt] })
  const seen = values.length === list.length ? '' : ` (in ${values.length} of ${list.length} rounds)`
  return values.length === 0 ? missing : `${fmt(median(values))} ms${seen}`
}

/** How many sync messages brought the records (median over rounds): a progress event with something applied follows each. */
function messages (list: readonly Joined[]): string {
  const m = median(list.map((t) => (t.progress ?? []).filter(([, done]) => done > 0).length))
  return `${fmt(m, Number.isInteger(m) ? 0 : 1)} message${m === 1 ? '' : 's'} of updates (median)`
}

/**
 * How many rounds ran more than one catch-up session with the writer by
 * the time every record was readable (each session sends the joiner what
 * it lacks: then everything, twice), and the headline in those rounds and
 * in the others.
 */
function sessionsNote (n: number, list: readonly Joined[]): string {
  const two = list.filter((t) => (t.sessions ?? 1) > 1)
  const one = list.filter((t) => (t.sessions ?? 1) <= 1)
  const led = (l: readonly Joined[]): number => l.filter((t) => t.joinerLeads === true).length
  const ms = (l: readonly Joined[]): string => l.length === 0 ? '–' : `${fmt(median(headline(l)))} ms`
  return `${fmt(n, 0)} records: ${two.length} of ${list.length} rounds ran two catch-up sessions with the writer at once (the joiner's peer id sorted first, so that the joiner led, in ${led(two)} of them and in ${led(one)} of the others), each planning to send every record; node started → all readable ${ms(two)} (median) in those rounds, ${ms(one)} in the others.`
}

export const coldJoin: Scenario = {
  name: 'cold-join',
  description: 'cold join, what a fresh process meets: a new app process starts a node, opens a shared database of N records by its address and shows every record; Kadmium vs OrbitDB 4 vs the raw limit (bare libp2p + Yjs), TCP loopback',
  async run ({ quick, rounds: roundsAsked, log }) {
    const disarm = guard(quick ? QUICK_WATCHDOG_MS : 2_700_000, 'cold-join')
    const sizes = quick ? [50] : [1_000, 10_000]
    const rows: ResultRow[] = []
    const roundsBySize: Record<number, { rounds: number, orbitdb: number }> = {}
    const speedups: Record<number, number> = {}
    const totalSpeedups: Record<number, number> = {}
    const rawRatios: Record<number, number> = {}
    const timings: Record<number, { kadmium: Joined[], orbitdb: Joined[], raw: Joined[] }> = {}
    const splits: string[] = []
    try {
      for (const [i, n] of sizes.entries()) {
        const rounds = roundsAsked ?? (quick ? 3 : 5)
        const orbitRounds = Math.min(rounds, quick ? 1 : n >= 10_000 ? 2 : 5)
        roundsBySize[n] = { rounds, orbitdb: orbitRounds }
        const records = todos(n)
        await withCleanup(log, async (cleanup) => {
          const orbitWriter = await startOrbitNode('writer')
          cleanup.add('OrbitDB writer', async () => orbitWriter.close())
          const orbitDb = await createOrbitDocuments(orbitWriter, 'bench-cold-join')
          log(`cold-join ${fmt(n, 0)}: writing ${fmt(n, 0)} OrbitDB documents on the writer`)
          for (const record of records) await orbitDb.put({ _id: newId(), ...record })
          const orbitAddrs = orbitWriter.libp2p.getMultiaddrs().map(String)

          await withSandbox('cold-join', log, async (sandbox) => {
            const server = await sandbox.bare()
            await serveRaw(server, records.map((record) => {
              const id = newId()
              return frame(id, encodeRecord(record, id))
            }))
            const rawAddrs = server.getMultiaddrs().map(String)

            const variants: Array<Variant<Joined | undefined>> = [
              { name: KADMIUM, run: async () => kadmiumRound(records, joinTimeoutMs('kadmium', n, quick), log) },
              {
                name: ORBIT,
                run: async (round) => round >= orbitRounds
                  ? undefined
                  : runJoiner({ mode: 'orbitdb', writer: orbitAddrs, address: orbitDb.address, records: n }, joinTimeoutMs('orbitdb', n, quick), log)
              },
              { name: RAW, run: async () => runJoiner({ mode: 'raw', writer: rawAddrs, address: '', records: n }, joinTimeoutMs('raw', n, quick), log) }
            ]
            const results = await interleave(variants, {
              rounds,
              // The writer side (this process) runs warm in the rounds: a long-running writer's code is.
              warmup: quick || i > 0 ? 0 : 1,
              onSample: (name, round, t) => {
                if (t === undefined) return
                log(`cold-join ${fmt(n, 0)}: round ${round + 1}/${rounds} ${name}: node started → all ${fmt(t.readableAt - t.nodeStartedAt)} ms, process start → all ${fmt(t.readableAt)} ms (node started at ${fmt(t.nodeStartedAt)} ms, open ${fmt(t.openedAt - t.nodeStartedAt)} ms after)`)
              }
            })
            const defined = (list: Array<Joined | undefined>): Joined[] => list.filter((t): t is Joined => t !== undefined)
            const k = defined(resultsOf(results, KADMIUM))
            const o = defined(resultsOf(results, ORBIT))
            const b = defined(resultsOf(results, RAW))
            timings[n] = { kadmium: k, orbitdb: o, raw: b }
            // OrbitDB ran in the first rounds: pairedRatio pairs its rounds with Kadmium's first ones.
            speedups[n] = pairedRatio(headline(o), headline(k)).median
            totalSpeedups[n] = pairedRatio(total(o), total(k)).median
            rawRatios[n] = pairedRatio(headline(k), headline(b)).median
            rows.push(
              valueRow(K_HEAD, 'kadmium', n, 'ms', 'lower', headline(k), { case: B_HEAD, values: headline(b) }),
              valueRow(B_HEAD, 'baseline', n, 'ms', 'lower', headline(b)),
              valueRow(O_HEAD, 'orbitdb', n, 'ms', 'lower', headline(o)),
              valueRow(K_TOTAL, 'kadmium', n, 'ms', 'lower', total(k), { case: O_TOTAL, values: total(o) }),
              valueRow(B_TOTAL, 'baseline', n, 'ms', 'lower', total(b)),
              valueRow(O_TOTAL, 'orbitdb', n, 'ms', 'lower', total(o)),
              valueRow(K_START, 'kadmium', n, 'ms', 'lower', k.map(nodeStarted)),
              valueRow(K_OPEN, 'kadmium', n, 'ms', 'lower', since(nodeStarted, opened)(k)),
              valueRow(K_CATCH_UP, 'kadmium', n, 'ms', 'lower', since(opened, readable)(k)),
              valueRow(O_OPEN, 'orbitdb', n, 'ms', 'lower', since(nodeStarted, opened)(o)),
              valueRow(O_CATCH_UP, 'orbitdb', n, 'ms', 'lower', since(opened, readable)(o))
            )
            splits.push(
              `${fmt(n, 0)} records, where the Kadmium joiner's time goes (medians, ms after its node started): connected to the writer ${fromNodeStart(k, (t) => t.connectedAt)}, identify done ${fromNodeStart(k, (t) => t.identifiedAt)}, ` +
              `open resolved (manifest in hand, storage open) ${fromNodeStart(k, (t) => t.openedAt)}, catch-up session started ${fromNodeStart(k, (t) => t.syncStartAt)}, first rows in the live query ${fromNodeStart(k, (t) => t.firstAt)}, ` +
              `session done ${fromNodeStart(k, (t) => t.syncDoneAt, 'only after the last rows were shown (not timed)')}, all ${fmt(n, 0)} rows in the live query ${fromNodeStart(k, readable)}. ` +
              `In the session: its plan (what the writer sends) received ${fromNodeStart(k, (t) => t.progress?.[0]?.[0])}, the first message of records applied ${fromNodeStart(k, (t) => t.progress?.find(([, done]) => done > 0)?.[0])}, everything applied (the collection index, then the records) ${fromNodeStart(k, (t) => [...t.progress ?? []].reverse().find(([, done, all]) => done >= all)?.[0])}, in ${messages(k)}; ` +
              `the joiner's event loop was busy ${fmt(100 * median(k.map((t) => t.busy?.opening ?? NaN)), 0)}% of the time from node started to open resolved, ${fmt(100 * median(k.map((t) => t.busy?.catchingUp ?? NaN)), 0)}% from open resolved to all readable. ` +
              `Before it: modules loaded ${fmt(median(k.map((t) => t.loadedAt)))} ms after the process started, node started at ${fmt(median(k.map(nodeStarted)))} ms. ` +
              `OrbitDB: node started at ${fmt(median(o.map(nodeStarted)))} ms, dial done ${fromNodeStart(o, (t) => t.connectedAt)}, open resolved ${fromNodeStart(o, opened)}, first update event ${fromNodeStart(o, (t) => t.firstAt)}. ` +
              `Raw: node started at ${fmt(median(b.map(nodeStarted)))} ms, stream open ${fromNodeStart(b, (t) => t.connectedAt)}, count read ${fromNodeStart(b, opened)}.`
            )
          })
        })
      }
    } finally {
      disarm()
    }
    const all = Object.values(timings).flatMap((t) => [...t.kadmium, ...t.orbitdb, ...t.raw])
    const targets: TargetResult[] = [
      target('cold join: open by address to all readable ≤ 100 ms after the node started (1,000 records)', findRow(rows, K_HEAD, 'kadmium', 1_000)?.summary.median, 100, 'lower', 'ms'),
      target('cold join: open by address to all readable ≤ 600 ms after the node started (10,000 records)', findRow(rows, K_HEAD, 'kadmium', 10_000)?.summary.median, 600, 'lower', 'ms'),
      target('cold join ≥ 40× OrbitDB (1,000 records)', speedups[1_000], 40, 'higher', '×'),
      target('cold join within 1.5× of the raw limit (1,000 records)', rawRatios[1_000], 1.5, 'lower', '×')
    ]
    const perSize = (values: Record<number, number>, digits = 1, unit = '×'): string => sizes.map((n) => `${fmt(n, 0)}: ${fmt(values[n] ?? NaN, digits)}${unit}`).join(', ')
    const lead = Object.fromEntries(Object.entries(timings).map(([n, t]) => [n, median(t.kadmium.map((j) => j.readableAt - (j.firstAt ?? j.readableAt)))]))
    return {
      params: { sizes, rounds: roundsBySize, speedupOverOrbitDB: speedups, speedupOverOrbitDBFromProcessStart: totalSpeedups, kadmiumOverRaw: rawRatios, timings },
      rows,
      targets,
      notes: [
        'Every round starts a fresh OS process per joiner (`node --conditions=development bench/lib/cold-join-child.ts`, a fresh data directory), which times itself from its own process start (performance.now()); the writers run in the bench process and hold every record before the joiner is spawned. "Node started": `nodePeer()` resolved (Kadmium; it dials its bootstrap peer, the writer, in the background), `startOrbitNode()` resolved (libp2p, Helia, OrbitDB), `createLibp2p()` resolved (raw).',
        'Kadmium: `createDatabase({ address, peer })` right after `nodePeer()`, once, no retry (it waits for the bootstrap connection and asks the writer for the manifest), then a live query of the whole collection; done at the callback that shows N rows. A fresh writer per round (`nodePeer`, LevelDB), filled and settled before the spawn.',
        'OrbitDB: dial the writer, `orbitdb.open(address)`, done at the `update` event (or poll) after which `all()` counted N documents (not when that `all()` returned). One writer per size.',
        'Raw limit: one bare libp2p node (Kadmium\'s profile: TCP, noise, yamux, identify, ping; no DHT, no gossipsub) dials a bare server in the bench process on one protocol stream; the server writes the record count, then every `[id, update]` length-prefixed (256 a write) from memory; the joiner applies each update to a Y.Doc it keeps and stores nothing. Done at the last update applied.',
        `Node started → all readable, paired by round: OrbitDB ÷ Kadmium ${perSize(speedups)}; Kadmium ÷ raw ${perSize(rawRatios, 2)}. Process start → all readable: OrbitDB ÷ Kadmium ${perSize(totalSpeedups)}.`,
        ...splits,
        `Rounds interleaved (the order rotates each round): ${sizes.map((n) => `${fmt(n, 0)}: ${roundsBySize[n]?.rounds ?? 0} rounds, OrbitDB in the first ${roundsBySize[n]?.orbitdb ?? 0}`).join('; ')}. A full run's first size is preceded by one unmeasured round of each (the bench process's writer code warm, as a long-running writer's is).`,
        `Process start is the joiner's performance.timeOrigin; the bench's spawn came ${fmt(median(all.map((t) => t.spawnGapMs)))} ms before it (median), not counted. The joiners run Kadmium's TypeScript sources (type-stripped as Node loads them), and Kadmium loads its network layer inside the first createDatabase with a peer: both are slower than compiled code would be.`,
        `Kadmium's catch-up sends a collection's index before its records, so the joiner's live query shows records as they land (its first rows came this long before its last, median: ${perSize(lead, 0, ' ms')}).`,
        ...sizes.map((n) => sessionsNote(n, timings[n]?.kadmium ?? [])),
        'The Kadmium writer wrote its records alone, so their DHT puts are parked until a peer connects; Kadmium resumes them a second after the joiner identified, and only while no catch-up session runs.'
      ]
    }
  }
}
