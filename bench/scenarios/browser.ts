/**
 * Kadmium in the browser, in headless Chromium (Debian's, driven by
 * playwright-core) on a profile on disk, so that IndexedDB is on disk:
 *
 * - Inserts into IndexedDB, sequential awaited: Kadmium (`indexedDbStorage`)
 *   vs raw Yjs + `idb` in the same page — per record a fresh Y.Doc, its
 *   fields in a Y.Map, the update encoded, one awaited put into one object
 *   store (the IndexedDB counterpart of the Node scenarios' raw Yjs +
 *   classic-level; `y-indexeddb` keeps one IndexedDB database per Y.Doc,
 *   which per record would mostly measure opening databases). Each run in a
 *   fresh IndexedDB database. Fresh pages (each run in a page of its own),
 *   then warm (one page, rounds after a warm-up round).
 * - Cold open of 10,000 records: filled in one page, then the page is
 *   reloaded (a fresh page of the same profile) and times `createDatabase`
 *   → the first query's rows; also from navigation start, and after
 *   Chromium restarts on the profile; warm: again in the same page.
 * - Catch-up: a Node writer's database of 1,000 records, pinned by a real
 *   `kadmium serve`; a page opens it by address through the server alone
 *   (WebSockets). Each fresh round in a new tab with its own peer store and
 *   storage; warm: rounds in one page.
 * - Update propagation between two pages over direct WebRTC, Kadmium vs
 *   bare libp2p nodes with gossipsub alone in the same pages, in a network
 *   namespace (`bench/lib/browser-webrtc-netns.ts`).
 * - The gzipped size of a minimal app (core + browserPeer +
 *   indexedDbStorage), built with esbuild, minified (the browser tests'
 *   `minimal-app.ts`).
 *
 * Quick runs (`--quick`, CI): a few inserts and a cold open of 1,000
 * records only (no server, no network namespace, no app build).
 * @module
 */
import { join } from 'node:path'
import { createDatabase } from '@kadmium/core'
import { startKadmiumServe } from '../../packages/browser-adapter/test/fixtures/kadmium-serve.ts'
import { runInNetworkNamespace } from '../../packages/browser-adapter/test/fixtures/network-namespace.ts'
import { startBenchBrowser, type BenchBrowser, type BenchPage } from '../lib/browser-chromium.ts'
import type { CatchUp, ColdOpen, LocalActions, PeerActions } from '../lib/browser-protocol.ts'
import { PARAMS_ENV, RESULT_PREFIX, PAUSE_MS, type Pair, type WebrtcParams, type WebrtcResult } from '../lib/browser-webrtc-netns.ts'
import { COLLECTION, insertConcurrently, todos, todoSchema } from '../lib/fixtures.ts'
import { interleave, resultsOf } from '../lib/interleave.ts'
import { Cleanup, QUIET, startPeer } from '../lib/peers.ts'
import { findRow, fmt, target, valueRow, type ResultRow, type TargetResult } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { median, percentile } from '../lib/stats.ts'

const PAGES = join(import.meta.dirname, '..', 'browser')
const LOCAL_PAGE = join(PAGES, 'local.page.ts')
const PEER_PAGE = join(PAGES, 'peer.page.ts')
const WEBRTC_SCRIPT = join(import.meta.dirname, '..', 'lib', 'browser-webrtc-netns.ts')

const INSERT_K = 'IndexedDB insert, sequential awaited'
const INSERT_B = 'IndexedDB insert, Y.Doc + awaited idb put'
const OPEN = 'cold open → first query result'
const NAV = 'navigation start → first query result'
const CATCH_OPEN = 'catch-up through kadmium serve: createDatabase(address) → all readable'
const CATCH_START = 'catch-up through kadmium serve: browserPeer() → all readable'
const PROP_K = 'update → other page\'s subscribe callback, direct WebRTC'
const PROP_B = 'bare gossipsub publish → message, direct WebRTC'
const SIZE_GZIP = 'minimal app (core + browserPeer + indexedDbStorage), esbuild minified, gzipped'
const SIZE_RAW = 'minimal app, esbuild minified, raw'

const FRESH = 'fresh page'
const WARM = 'warm page'

/** The scenario's whole bound: past it, it stops what it started and exits (well under the 5 minutes it is meant to take at most). */
const GUARD_MS = 295_000
const QUICK_GUARD_MS = 55_000
/** The propagation run's bound, in its network namespace. */
const WEBRTC_BOUND_MS = 150_000

/** Runs the cleanup, then exits, if the scenario overruns `ms`; returns what disarms it. */
function guard (ms: number, cleanup: Cleanup, log: (line: string) => void): () => void {
  const timer = setTimeout(() => {
    log(`browser: still running after ${Math.round(ms / 1000)} s; stopping Chromium and the server, then exiting`)
    const exit = (): never => process.exit(3)
    setTimeout(exit, 30_000).unref()
    void cleanup.run().finally(exit)
  }, ms)
  timer.unref()
  return () => { clearTimeout(timer) }
}

const opsPerSecond = (records: number, ms: number): number => records / ms * 1000

export const browser: Scenario = {
  name: 'browser',
  description: 'Kadmium in headless Chromium: IndexedDB inserts vs raw Yjs + idb, cold open of 10,000 records, catch-up of 1,000 through kadmium serve, update propagation over direct WebRTC vs bare gossipsub, the minimal app\'s gzipped size',
  async run ({ quick, rounds: roundsAsked, log }) {
    const insertN = quick ? 100 : 1_000
    const coldN = quick ? 1_000 : 10_000
    const catchN = 1_000
    const rounds = {
      insertFresh: roundsAsked ?? (quick ? 1 : 5),
      insertWarm: roundsAsked ?? (quick ? 1 : 5),
      coldFresh: roundsAsked ?? (quick ? 2 : 10),
      coldRestart: roundsAsked ?? (quick ? 0 : 3),
      coldWarm: roundsAsked ?? (quick ? 1 : 5),
      catchFresh: roundsAsked ?? 10,
      catchWarm: roundsAsked ?? 5
    }
    const webrtc: Omit<WebrtcParams, 'entry' | 'boundMs'> = { fresh: 10, warmup: 40, rounds: roundsAsked ?? 5, perRound: 10 }
    const rows: ResultRow[] = []
    const notes: string[] = []
    const cleanup = new Cleanup()
    /** Seconds each part took (setup included), for the results' params. */
    const seconds: Record<string, number> = {}
    let mark = performance.now()
    const done = (part: string): void => {
      const now = performance.now()
      seconds[part] = Math.round((now - mark) / 100) / 10
      mark = now
      log(`browser: ${part} done in ${fmt(seconds[part], 1)} s`)
    }
    const disarm = guard(quick ? QUICK_GUARD_MS : GUARD_MS, cleanup, log)
    let size: { bytes: number, gzipBytes: number } | undefined
    try {
      const entries: Record<string, string> = quick ? { local: LOCAL_PAGE } : { local: LOCAL_PAGE, peer: PEER_PAGE }
      const open = await startBenchBrowser(entries)
      cleanup.add('closing Chromium', async () => open.close())
      log(`browser: Chromium started, pages bundled (${Object.keys(entries).join(', ')})`)

      // Inserts: fresh pages (each run in a page of its own), then warm (one page).
      let run = 0
      const inPage = async <T>(entry: string, fn: (page: BenchPage<LocalActions>) => Promise<T>): Promise<T> => {
        const page = await open.open<LocalActions>(entry)
        try {
          return await fn(page)
        } finally {
          await page.close()
        }
      }
      const fresh = await interleave([
        { name: INSERT_K, run: async () => inPage('local', async (p) => opsPerSecond(insertN, await p.act('kadmiumInsert', insertN, `insert-${run++}`))) },
        { name: INSERT_B, run: async () => inPage('local', async (p) => opsPerSecond(insertN, await p.act('baselineInsert', insertN, `insert-${run++}`))) }
      ], { rounds: rounds.insertFresh, warmup: 0, onSample: (name, round, v) => { log(`browser: inserts, fresh page, round ${round + 1}: ${name} ${fmt(v)}/s`) } })
      const warmPage = await open.open<LocalActions>('local')
      let warm: Map<string, number[]>
      try {
        warm = await interleave([
          { name: INSERT_K, run: async () => opsPerSecond(insertN, await warmPage.act('kadmiumInsert', insertN, `insert-${run++}`)) },
          { name: INSERT_B, run: async () => opsPerSecond(insertN, await warmPage.act('baselineInsert', insertN, `insert-${run++}`)) }
        ], { rounds: rounds.insertWarm, warmup: 1, onSample: (name, round, v) => { log(`browser: inserts, warm page, round ${round + 1}: ${name} ${fmt(v)}/s`) } })
      } finally {
        await warmPage.close()
      }
      done('inserts')
      for (const [label, results] of [[FRESH, fresh], [WARM, warm]] as const) {
        const b = resultsOf(results, INSERT_B)
        rows.push(
          valueRow(`${INSERT_K}, ${label}`, 'kadmium', insertN, 'ops/s', 'higher', resultsOf(results, INSERT_K), { case: `${INSERT_B}, ${label}`, values: b }),
          valueRow(`${INSERT_B}, ${label}`, 'baseline', insertN, 'ops/s', 'higher', b)
        )
      }

      // Cold open: fill once, then reload (fresh page), restart Chromium (fresh browser), and again in the page (warm).
      const cold = 'cold-open'
      const coldResults: { fresh: ColdOpen[], restart: ColdOpen[], warm: ColdOpen[] } = { fresh: [], restart: [], warm: [] }
      let page = await open.open<LocalActions>('local')
      try {
        const fillMs = await page.act('fill', coldN, cold)
        log(`browser: ${fmt(coldN, 0)} records filled in ${fmt(fillMs)} ms`)
        for (let i = 0; i < rounds.coldFresh; i++) {
          await page.reload()
          coldResults.fresh.push(await page.act('coldOpen', cold))
        }
        for (let i = 0; i < rounds.coldWarm; i++) coldResults.warm.push(await page.act('coldOpen', cold))
      } finally {
        await page.close()
      }
      for (let i = 0; i < rounds.coldRestart; i++) {
        await open.restart()
        page = await open.open<LocalActions>('local')
        try {
          coldResults.restart.push(await page.act('coldOpen', cold))
        } finally {
          await page.close()
        }
      }
      page = await open.open<LocalActions>('local')
      await page.act('drop', cold).finally(async () => { await page.close() })
      done('cold open')
      for (const r of [...coldResults.fresh, ...coldResults.restart, ...coldResults.warm]) {
        if (r.records !== coldN || r.rows === 0) throw new Error(`a cold open found ${r.records} records (${r.rows} rows) of ${coldN}`)
      }
      rows.push(valueRow(`${OPEN}, ${FRESH} (reload)`, 'kadmium', coldN, 'ms', 'lower', coldResults.fresh.map((r) => r.openMs)))
      rows.push(valueRow(`${NAV}, ${FRESH} (reload)`, 'kadmium', coldN, 'ms', 'lower', coldResults.fresh.map((r) => r.sinceNavigationMs)))
      if (coldResults.restart.length > 0) rows.push(valueRow(`${OPEN}, fresh browser (Chromium restarted)`, 'kadmium', coldN, 'ms', 'lower', coldResults.restart.map((r) => r.openMs)))
      rows.push(valueRow(`${OPEN}, ${WARM} (opened again)`, 'kadmium', coldN, 'ms', 'lower', coldResults.warm.map((r) => r.openMs)))
      const coldFresh = coldResults.fresh.map((r) => r.openMs)
      notes.push(`Cold open: ${fmt(coldN, 0)} records filled in one page, then per round the page reloaded (fresh page, same profile: IndexedDB on disk, the OS's file cache warm) and \`createDatabase\` → the first query's rows (\`find(${FIRST_QUERY_TEXT})\`) timed in the page; p50 ${fmt(median(coldFresh))} ms, p95 ${fmt(percentile(coldFresh, 95))} ms over ${coldFresh.length} reloads. "Navigation start" adds loading the page's script (an unminified development bundle).${coldResults.restart.length > 0 ? ` Fresh browser: Chromium closed and started again on the profile (${coldResults.restart.length} times).` : ''} Warm: \`createDatabase\` and the query again in the reloaded page (${coldResults.warm.length} times).`)

      if (!quick) {
        // Catch-up through a kadmium serve that pins the database.
        const catchUp = await catchUpRounds(open, catchN, rounds.catchFresh, rounds.catchWarm, cleanup, log)
        rows.push(
          valueRow(`${CATCH_OPEN}, ${FRESH}`, 'kadmium', catchN, 'ms', 'lower', catchUp.fresh.map((r) => r.fromOpenMs)),
          valueRow(`${CATCH_START}, ${FRESH}`, 'kadmium', catchN, 'ms', 'lower', catchUp.fresh.map((r) => r.fromStartMs)),
          valueRow(`${CATCH_OPEN}, ${WARM}`, 'kadmium', catchN, 'ms', 'lower', catchUp.warm.map((r) => r.fromOpenMs))
        )
        const f = catchUp.fresh
        notes.push(`Catch-up: a Node writer's database of ${fmt(catchN, 0)} records, pinned by \`kadmium serve\` (its own process, WebSockets on 127.0.0.1), the writer then closed; a page opens it by address with \`browserPeer({ bootstrap: [server] })\`, IndexedDB storage. Fresh page: a new tab, its own peer store and storage, per round; p50 from createDatabase ${fmt(median(f.map((r) => r.fromOpenMs)))} ms (p95 ${fmt(percentile(f.map((r) => r.fromOpenMs), 95))}), of which the manifest ${fmt(median(f.map((r) => r.manifestMs)))} ms; the peer's start and connection to the server before it ${fmt(median(f.map((r) => r.connectMs)))} ms. Warm: rounds in one page after one unmeasured round.`)
        // Chromium and the server stop here: the propagation run starts its own, in its namespace.
        for (const problem of await cleanup.run()) log(`cleanup: ${problem}`)
        done('catch-up')

        // Propagation over direct WebRTC, in a network namespace.
        const result = await propagation(webrtc, log)
        done('propagation')
        const means = (pairs: readonly Pair[]): number[] => pairs.map((p) => p.mean)
        const freshProp = { k: means(result.fresh.kadmium), b: means(result.fresh.bare) }
        const kRounds = result.warm.kadmium.map(means)
        const bRounds = result.warm.bare.map(means)
        const warmProp = { k: kRounds.map((r) => percentile(r, 50)), b: bRounds.map((r) => percentile(r, 50)) }
        const kAll = kRounds.flat()
        const bAll = bRounds.flat()
        rows.push(
          valueRow(`${PROP_K}, fresh pages, p50`, 'kadmium', 1, 'ms', 'lower', freshProp.k, { case: `${PROP_B}, fresh pages, p50`, values: freshProp.b }),
          valueRow(`${PROP_B}, fresh pages, p50`, 'baseline', 1, 'ms', 'lower', freshProp.b),
          valueRow(`${PROP_K}, warm, p50`, 'kadmium', 1, 'ms', 'lower', warmProp.k, { case: `${PROP_B}, warm, p50`, values: warmProp.b }),
          valueRow(`${PROP_B}, warm, p50`, 'baseline', 1, 'ms', 'lower', warmProp.b),
          valueRow(`${PROP_K}, warm, p95 (pooled)`, 'kadmium', 1, 'ms', 'lower', [percentile(kAll, 95)], { case: `${PROP_B}, warm, p95 (pooled)`, values: [percentile(bAll, 95)] }),
          valueRow(`${PROP_B}, warm, p95 (pooled)`, 'baseline', 1, 'ms', 'lower', [percentile(bAll, 95)])
        )
        const dir = (pairs: ReadonlyArray<readonly Pair[]>, key: 'ab' | 'ba'): number => median(pairs.flat().map((p) => p[key]))
        notes.push(
          `Propagation: two tabs of one Chromium (each its own peer store and IndexedDB storages) in a network namespace, connected over direct WebRTC (set up through a \`kadmium serve\` relay, which stays up for the Kadmium peers' DHT puts but is subscribed to neither topic). Each page runs a Kadmium peer and a bare libp2p node (the same transports, noise, yamux, identify, gossipsub configured as Kadmium's profile; no DHT). Kadmium: \`update\` of one todo's title → the other page's \`subscribe\` callback (the write's DHT put waited for after each sample, untimed); bare: \`publish\` of ${result.payloadBytes} random bytes (Kadmium's median envelope) → \`message\`. Samples go both ways in turn, each after ${PAUSE_MS} ms of quiet; a value is the mean of a pair (one each way), which cancels any offset between the pages' clocks.`,
          `Fresh pages: the first ${webrtc.fresh} pairs of each, Kadmium and bare alternating, in pages just started (p50 of the pairs; K/B: the median of the ratios of pairs taken back to back; p50 ÷ p50: ${fmt(median(freshProp.k) / median(freshProp.b), 2)}×). Then ${webrtc.warmup} samples of each back to back, unmeasured (${fmt(result.warmupSeconds, 1)} s), then ${webrtc.rounds} rounds of ${webrtc.perRound} pairs of each (warm rows: each round's p50, K/B paired by round; p95 pooled). Per direction, warm medians: Kadmium a→b ${fmt(dir(result.warm.kadmium, 'ab'))} ms, b→a ${fmt(dir(result.warm.kadmium, 'ba'))} ms; bare ${fmt(dir(result.warm.bare, 'ab'))} / ${fmt(dir(result.warm.bare, 'ba'))} ms.${result.meshes ? '' : ' The gossipsub meshes had not formed when sampling began.'}`
        )

        // The minimal app's size.
        try {
          const { minimalAppSize } = await import('../../packages/browser-adapter/test/fixtures/minimal-app.ts')
          size = await minimalAppSize()
          rows.push(
            valueRow(SIZE_GZIP, 'kadmium', 1, 'KB', 'lower', [size.gzipBytes / 1024]),
            valueRow(SIZE_RAW, 'kadmium', 1, 'KB', 'lower', [size.bytes / 1024])
          )
          notes.push(`App size: the browser tests' minimal app (\`packages/browser-adapter/test/browser/minimal-app/main.ts\`), bundled by esbuild from the built packages (\`tsc -b\` first), platform browser, minified, one ES module; gzip: node:zlib, default level. KB = 1,024 bytes.`)
        } catch (error) {
          log(`browser: the minimal app's size not measured: ${(error as Error).message}`)
          notes.push(`App size not measured: ${(error as Error).message.split('\n')[0] ?? ''}`)
        }
        done('app size')
      }
    } finally {
      disarm()
      for (const problem of await cleanup.run()) log(`cleanup: ${problem}`)
    }

    const insertFresh = findRow(rows, `${INSERT_K}, ${FRESH}`, 'kadmium', insertN)
    const insertWarm = findRow(rows, `${INSERT_K}, ${WARM}`, 'kadmium', insertN)
    const coldRow = findRow(rows, `${OPEN}, ${FRESH} (reload)`, 'kadmium', coldN)
    const catchRow = findRow(rows, `${CATCH_OPEN}, ${FRESH}`, 'kadmium', catchN)
    const full = (value: number | undefined): number | undefined => quick ? undefined : value
    const targets: TargetResult[] = [
      target(`IndexedDB inserts, sequential awaited ≥ 1× raw Yjs + idb (${fmt(insertN, 0)} records, fresh page)`, full(insertFresh?.ratio?.median), 1, 'higher', '×'),
      target(`IndexedDB inserts, sequential awaited ≥ 1× raw Yjs + idb (${fmt(insertN, 0)} records, warm page)`, full(insertWarm?.ratio?.median), 1, 'higher', '×'),
      target(`cold open of ${fmt(coldN, 0)} records → first query result ≤ 300 ms (fresh page, p50)`, full(coldRow?.summary.median), 300, 'lower', 'ms'),
      target('update propagation over direct WebRTC p50 ≤ 2× bare gossipsub (fresh pages)', findRow(rows, `${PROP_K}, fresh pages, p50`, 'kadmium', 1)?.ratio?.median, 2, 'lower', '×'),
      target('update propagation over direct WebRTC p50 ≤ 2× bare gossipsub (warm)', findRow(rows, `${PROP_K}, warm, p50`, 'kadmium', 1)?.ratio?.median, 2, 'lower', '×'),
      target(`catch-up of ${fmt(catchN, 0)} records through kadmium serve ≤ 300 ms (fresh page, p50, from createDatabase)`, catchRow?.summary.median, 300, 'lower', 'ms'),
      target('minimal app (core + browserPeer + indexedDbStorage) ≤ 300 KB gzipped', size === undefined ? undefined : size.gzipBytes / 1024, 300, 'lower', 'KB')
    ]
    notes.unshift(
      `Headless Chromium (/usr/bin/chromium, playwright-core) on a profile on disk: IndexedDB written to and read from disk. Inserts: ${fmt(insertN, 0)} records a run, each into a fresh IndexedDB database, one awaited insert (Kadmium) or one Y.Doc + one awaited put in a relaxed-durability transaction (baseline: raw Yjs + idb, one object store; the counterpart of the Node baseline) at a time; fresh page: each run in a new tab (${rounds.insertFresh} rounds), warm page: ${rounds.insertWarm} rounds in one tab after a warm-up round. K/B paired by round.`
    )
    return {
      params: { insertRecords: insertN, coldRecords: coldN, catchUpRecords: catchN, rounds, webrtc: quick ? 'not run' : webrtc, appSize: size ?? 'not measured', seconds },
      rows,
      targets,
      notes
    }
  }
}

/** The cold open's first query, as text for the notes. */
const FIRST_QUERY_TEXT = '{ where: { done: false }, orderBy: \'title\', limit: 50 }'

/** The catch-up rounds: a writer in this process, a `kadmium serve` pinning its database, pages opening it by address through the server. */
async function catchUpRounds (chromium: BenchBrowser, records: number, freshRounds: number, warmRounds: number, cleanup: Cleanup, log: (line: string) => void): Promise<{ fresh: CatchUp[], warm: CatchUp[] }> {
  const server = await startKadmiumServe()
  cleanup.add('stopping kadmium serve', async () => server.stop())
  const ws = server.ws
  const writerCleanup = new Cleanup()
  let address: string
  try {
    const writer = await startPeer('writer', writerCleanup)
    const db = await createDatabase({ name: 'browser-catch-up', peer: writer, replication: QUIET })
    writerCleanup.add('closing the writer\'s database', async () => db.close())
    await insertConcurrently(db.collection(COLLECTION, { schema: todoSchema }), todos(records))
    address = db.address
    const tcp = server.tcp[0]
    if (tcp === undefined) throw new Error('kadmium serve printed no TCP address')
    await writer.dial(tcp)
    await server.pin(address)
    // One unmeasured round: the server has caught up on every record once a page read them all through it.
    await inTab(chromium, async (page) => page.act('catchUp', { bootstrap: ws, address, records, round: 0 }))
  } finally {
    for (const problem of await writerCleanup.run()) log(`cleanup: ${problem}`)
  }
  log(`browser: kadmium serve holds ${fmt(records, 0)} records; the writer closed`)
  const fresh: CatchUp[] = []
  let round = 1
  for (let i = 0; i < freshRounds; i++) {
    const r = await inTab(chromium, async (page) => page.act('catchUp', { bootstrap: ws, address, records, round: round++ }))
    log(`browser: catch-up, fresh page, round ${i + 1}: ${fmt(r.fromOpenMs)} ms from createDatabase, ${fmt(r.fromStartMs)} ms from browserPeer()`)
    fresh.push(r)
  }
  const warm = await inTab(chromium, async (page) => {
    const out: CatchUp[] = []
    for (let i = -1; i < warmRounds; i++) {
      const r = await page.act('catchUp', { bootstrap: ws, address, records, round: round++ })
      if (i >= 0) out.push(r)
    }
    return out
  })
  return { fresh, warm }
}

async function inTab<T> (chromium: BenchBrowser, fn: (page: BenchPage<PeerActions>) => Promise<T>): Promise<T> {
  const page = await chromium.open<PeerActions>('peer')
  try {
    return await fn(page)
  } finally {
    await page.close()
  }
}

/** Runs `bench/lib/browser-webrtc-netns.ts` in a network namespace; resolves its result. */
async function propagation (params: Omit<WebrtcParams, 'entry' | 'boundMs'>, log: (line: string) => void): Promise<WebrtcResult> {
  const full: WebrtcParams = { ...params, entry: PEER_PAGE, boundMs: WEBRTC_BOUND_MS - 20_000 }
  process.env[PARAMS_ENV] = JSON.stringify(full)
  let run: Awaited<ReturnType<typeof runInNetworkNamespace>>
  try {
    log('browser: propagation over WebRTC, in a network namespace')
    run = await runInNetworkNamespace(WEBRTC_SCRIPT, WEBRTC_BOUND_MS)
  } finally {
    delete process.env[PARAMS_ENV]
  }
  for (const line of run.output.split('\n')) if (line.startsWith('browser webrtc: ')) log(line.replace(/^browser webrtc: /, 'browser: '))
  const line = run.output.split('\n').find((l) => l.startsWith(`${RESULT_PREFIX} `))
  if (run.code !== 0 || line === undefined) throw new Error(`the WebRTC propagation run failed (exit ${String(run.code)}):\n${run.output.split('\n').slice(-40).join('\n')}`)
  return JSON.parse(line.slice(RESULT_PREFIX.length + 1)) as WebrtcResult
}
