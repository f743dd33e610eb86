/**
 * An always-on server: one `kadmium serve` process pinning many databases.
 *
 * - A writer (this process) holds D databases of N records each; a server
 *   process starts, bootstrapping from it, with every database pinned, and
 *   catches up on all of them. Then it is stopped (SIGTERM) and restarted
 *   alone: its start-up time is from spawn to every pin open with all its
 *   records, read from its own disk. Its RSS is read from /proc once it
 *   serves them all.
 * - Republish load: what the server holds (every record, each index and
 *   manifest) is put again once per republish interval (22 h), spread over
 *   it: the puts an hour that makes, computed from the count.
 * - A late joiner (a fresh peer in this process) opens one database by
 *   address and reads all N records: through the server alone, against
 *   straight from the writer (rounds interleaved).
 * @module
 */
import { createDatabase, type Database } from '@kadmium/core'
import { serverStatus, type NodePeer } from '@kadmium/node'
import { interleave, resultsOf } from '../lib/interleave.ts'
import { insertConcurrently, todos, todoSchema, COLLECTION } from '../lib/fixtures.ts'
import { QUIET, startPeer, withCleanup } from '../lib/peers.ts'
import { findRow, fmt, target, valueRow, type ResultRow } from '../lib/report.ts'
import type { Scenario } from '../lib/scenario.ts'
import { spawnServe, type ServeProcess } from '../lib/serve-process.ts'
import { median, pairedRatio } from '../lib/stats.ts'
import { makeTempDir, removeTempDir } from '../lib/tempdir.ts'
import { guard, sleep, until } from '../lib/wait.ts'

const RSS = 'server RSS, serving every pin, settled (30 s)'
const RSS_FIRST = 'server RSS, serving every pin, 1 s after'
/** How long after serving every pin the server's memory is read again, settled: its first republish tracking (10 s after each open) and the garbage of start-up behind it (ms). */
const SETTLE_MS = 30_000
const CATCH_UP = 'server: spawn → every pin caught up from the writer'
const STARTUP = 'server restart: spawn → serving every pin from disk'
const STOP = 'server: SIGTERM → exited'
const THROUGH = 'late joiner: node started → all readable, through the server'
const DIRECT = 'late joiner: node started → all readable, from the writer'
/** The republish interval (22 h). */
const REPUBLISH_HOURS = 22

/** Resolves once the server on `dir` has every pin open with `records` records. */
async function serving (dir: string, addresses: readonly string[], records: number, timeoutMs: number): Promise<void> {
  await until(`the server serving ${addresses.length} pins of ${records} records`, async () => {
    const status = await serverStatus(dir).catch(() => undefined)
    if (status === undefined) return false
    const pins = new Map(status.pins.map((p) => [p.address, p]))
    return addresses.every((a) => pins.get(a)?.state === 'open' && pins.get(a)?.records?.[COLLECTION] === records)
  }, timeoutMs, 100)
}

/** A fresh peer opens the database by address, bootstrapping from `bootstrap` only; resolves ms from its node started to all `records` readable. */
async function lateJoin (bootstrap: string, address: string, records: number, log: (line: string) => void): Promise<number> {
  return withCleanup(log, async (cleanup) => {
    const peer: NodePeer = await startPeer('joiner', cleanup)
    const started = performance.now()
    await peer.dial(bootstrap)
    const db = await createDatabase({ address, peer, replication: QUIET })
    cleanup.add('closing the joiner\'s database', async () => db.close())
    const rows = db.collection(COLLECTION, { schema: todoSchema })
    return await new Promise<number>((resolve) => {
      const stop = rows.subscribe({}, (all) => {
        if (all.length < records) return
        stop()
        resolve(performance.now() - started)
      })
    })
  })
}

export const serve: Scenario = {
  name: 'serve',
  description: 'an always-on server (kadmium serve, its own process) pinning D databases of N records: its RSS, start-up to serving every pin from disk, republish load, and a late joiner catching up through it vs straight from the writer',
  async run ({ quick, rounds: roundsAsked, log }) {
    const disarm = guard(quick ? 240_000 : 1_800_000, 'serve')
    const D = quick ? 3 : 100
    const N = quick ? 50 : 1_000
    const rounds = roundsAsked ?? (quick ? 1 : 5)
    const wait = quick ? 60_000 : 600_000
    const dir = makeTempDir('serve')
    const rows: ResultRow[] = []
    const notes: string[] = []
    let through: number[] = []
    let direct: number[] = []
    try {
      await withCleanup(log, async (cleanup) => {
        const writer = await startPeer('writer', cleanup)
        const addresses: string[] = []
        const dbs: Database[] = []
        /** The writer's DHT puts not yet done, all its databases together: waiting (queued, running) and parked (offline, or given up). */
        const writerPuts = (): { waiting: number, parked: number } => dbs.reduce((sum, db) => ({ waiting: sum.waiting + (db.status.dht?.waiting ?? 0), parked: sum.parked + (db.status.dht?.parked ?? 0) }), { waiting: 0, parked: 0 })
        for (let d = 0; d < D; d++) {
          const db = await createDatabase({ name: `serve-${d}`, peer: writer, replication: QUIET })
          dbs.push(db)
          cleanup.add(`closing database ${d}`, async () => db.close())
          await insertConcurrently(db.collection(COLLECTION, { schema: todoSchema }), todos(N))
          addresses.push(db.address)
          if ((d + 1) % 10 === 0) log(`serve: the writer holds ${d + 1} of ${D} databases of ${fmt(N, 0)} records`)
        }
        const writerAddress = writer.multiaddrs[0]?.toString() ?? ''
        const common = ['--data', dir, '--listen', '/ip4/127.0.0.1/tcp/0', '--network', 'local']
        let server: ServeProcess | undefined
        cleanup.add('stopping the server', async () => server?.stop())

        const spawnedAt = performance.now()
        server = await spawnServe([...common, '--bootstrap', writerAddress, ...addresses.flatMap((a) => ['--pin', a])], wait)
        await serving(dir, addresses, N, wait)
        const catchUpMs = performance.now() - spawnedAt
        log(`serve: the server caught up on ${D} × ${fmt(N, 0)} records in ${fmt(catchUpMs)} ms`)
        const first = await server.stop()
        if (first.code !== 0) throw new Error(`the server exited with ${String(first.code)} on SIGTERM`)

        // Restarted alone: everything from its own disk.
        const restartedAt = performance.now()
        server = await spawnServe(common, wait)
        await serving(dir, addresses, N, wait)
        const startupMs = performance.now() - restartedAt
        await sleep(1_000)
        const putsAtFirst = writerPuts()
        const firstRssMB = server.rssMB()
        const firstMemory = (await serverStatus(dir))?.memory
        const settle = quick ? 2_000 : SETTLE_MS
        await sleep(settle - 1_000)
        const rssMB = server.rssMB()
        const putsSettled = writerPuts()
        const memory = (await serverStatus(dir))?.memory
        log(`serve: restarted and serving every pin in ${fmt(startupMs)} ms (ready after ${fmt(server.readyMs)} ms), RSS ${fmt(firstRssMB)} MB 1 s after, ${fmt(rssMB)} MB settled; JS heap in use ${fmt(firstMemory?.heapUsedMB ?? NaN)} then ${fmt(memory?.heapUsedMB ?? NaN)} MB`)
        notes.push(`The server's memory once it serves every pin: RSS ${fmt(firstRssMB)} MB 1 s after (JavaScript heap in use ${fmt(firstMemory?.heapUsedMB ?? NaN)} MB, start-up's garbage not yet collected), ${fmt(rssMB)} MB ${settle / 1000} s after (heap ${fmt(memory?.heapUsedMB ?? NaN)} MB), once every pin's republishing was taken in. Each read after a status call, which counts each pinned collection's records from its index. Meanwhile the writer (connected to the restarted server again) puts its records in the DHT, whose only other node is the server: its DHT puts not yet done were ${fmt(putsAtFirst.waiting + putsAtFirst.parked, 0)} at the first read (${fmt(putsAtFirst.parked, 0)} parked) and ${fmt(putsSettled.waiting + putsSettled.parked, 0)} at the second, so the settled figure includes the server taking those puts in.`)

        const serverAddress = server.tcp[0] ?? ''
        const results = await interleave([
          { name: 'through', run: async () => lateJoin(serverAddress, addresses[0] ?? '', N, log) },
          { name: 'direct', run: async () => lateJoin(writerAddress, addresses[0] ?? '', N, log) }
        ], { rounds, warmup: quick ? 0 : 1 })
        through = resultsOf(results, 'through')
        direct = resultsOf(results, 'direct')
        const stopped = await server.stop()
        server = undefined

        const held = D * N
        const putsPerHour = (held + 2 * D) / REPUBLISH_HOURS
        rows.push(
          valueRow(RSS_FIRST, 'kadmium', held, 'MB', 'lower', [firstRssMB]),
          valueRow(RSS, 'kadmium', held, 'MB', 'lower', [rssMB]),
          valueRow(CATCH_UP, 'kadmium', held, 'ms', 'lower', [catchUpMs]),
          valueRow(STARTUP, 'kadmium', held, 'ms', 'lower', [startupMs]),
          valueRow(STOP, 'kadmium', held, 'ms', 'lower', [first.ms, stopped.ms]),
          valueRow(THROUGH, 'kadmium', N, 'ms', 'lower', through, { case: DIRECT, values: direct }),
          valueRow(DIRECT, 'kadmium', N, 'ms', 'lower', direct)
        )
        notes.push(
          `${D} databases of ${fmt(N, 0)} records (${fmt(held, 0)} in all), one writer (this process) and one server process (\`kadmium serve\`, TCP on 127.0.0.1, network 'local'), data on disk (LevelDB). The server is restarted alone before the RSS, start-up and late-joiner figures: it serves from its own disk.`,
          `Republish load, computed: the server puts what it holds again once every ${REPUBLISH_HOURS} h, spread over the interval — ${fmt(held, 0)} records, ${D} indexes and ${D} manifests: ${fmt(putsPerHour, 0)} puts an hour (${fmt(putsPerHour / 3600, 2)} a second), each a head and its blocks to the closest DHT peers, run 4 at a time.`,
          `Late joiner: a fresh peer in this process dials one peer (the server, or the writer) and opens one database by address; rounds interleaved; through ÷ direct ${fmt(pairedRatio(through, direct).median, 2)}× (median ${fmt(median(through))} ms against ${fmt(median(direct))} ms). The server's exits on SIGTERM took ${fmt(first.ms)} and ${fmt(stopped.ms)} ms.`
        )
      })
    } finally {
      disarm()
      await removeTempDir(dir)
    }
    const held = D * N
    return {
      params: { databases: D, records: N, rounds },
      rows,
      targets: [
        target(`server RSS ≤ 400 MB serving ${fmt(held, 0)} records (100 × 1,000), settled`, quick ? undefined : findRow(rows, RSS, 'kadmium', held)?.summary.median, 400, 'lower', 'MB'),
        target('late joiner through the server within 1.2× of straight from the writer (1,000 records)', quick ? undefined : pairedRatio(through, direct).median, 1.2, 'lower', '×')
      ],
      notes
    }
  }
}
