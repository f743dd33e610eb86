/**
 * Databases, opened and watched at rest: every member opens its
 * databases (in waves), one member writes a first record to each, and the
 * run waits for every member to hold it and to have enough peers of the
 * database connected; then what the peers cost at rest.
 *
 * The first record matters: a database that holds no record at all runs
 * catch-up sessions back to back between its peers (each one brings the
 * empty collection index, counted as an update, which owes a session to
 * every other peer), which is not what a database in use costs. It is
 * measured apart (`empty`: a stretch of a database opened and not seeded)
 * and reported as a finding.
 * @module
 */
import { loadavg } from 'node:os'
import { costs, type Costs } from './costs.ts'
import type { DatabaseSpec } from './gossip-phase.ts'
import { summarize, type Summary } from './measure.ts'
import type { ScalePeer } from './peers.ts'
import type { ReplicationState } from './scale-node.ts'
import type { Swarm } from './swarm.ts'

/** How opening a set of databases went. */
export interface Opened {
  /** Per member: ms for `createDatabase` to resolve. */
  readonly openMs: Summary
  /** ms from the first record's write until every member held it (undefined: not within the bound). */
  readonly seedMs: number | undefined
  /** ms until every member had its share of the database's peers connected (undefined: not within the bound). */
  readonly meshMs: number | undefined
  /** The first database's address. */
  readonly address: string
  /** When the mesh was not formed: the member with the fewest peers of a database, and how many it had. */
  readonly fewest?: { readonly peer: number, readonly database: string, readonly peers: number }
  /** The peers at rest while the databases held no record (when asked for). */
  readonly empty: IdleStretch | undefined
}

/**
 * Opens `dbs` on their members, measures `emptyMs` of rest (if more than
 * 0), then (unless `seed` is false) writes a first record to each, waits
 * for it everywhere and for `mesh(db)` peers of each.
 */
export async function openDatabases (swarm: Swarm, dbs: readonly DatabaseSpec[], mesh: (db: DatabaseSpec) => number, boundMs: number, emptyMs = 0, seed = true): Promise<Opened> {
  const pairs = dbs.flatMap((db) => db.members.map((peer) => ({ db, peer })))
  const opened = await swarm.inWaves(pairs, async ({ db, peer }) => await peer.request('open', { label: db.label, target: { name: db.name }, openTimeout: 60_000 }) as { address: string, ms: number })
  const empty = emptyMs > 0 ? await idleStretch(swarm, (peer) => dbs.filter((db) => db.members.includes(peer)), 0, emptyMs) : undefined
  if (!seed) return { openMs: summarize(opened.map((r) => r.ms)), seedMs: undefined, meshMs: undefined, address: opened[0]?.address ?? '', empty }
  const seeded = performance.now()
  await Promise.all(dbs.map(async (db) => await (db.members[0] as ScalePeer).request('write', { label: db.label, id: `seed-${db.name}`, text: 'first', n: 0 })))
  const arrived = await Promise.all(pairs.map(async ({ db, peer }) =>
    await peer.request('waitFor', { label: db.label, ids: [`seed-${db.name}`], timeoutMs: boundMs }, boundMs + 30_000) as { at: number | undefined }))
  const seedMs = arrived.every((a) => a.at !== undefined) ? performance.now() - seeded : undefined
  let fewest: Opened['fewest']
  const meshMs = await swarm.until(async () => {
    const states = await Promise.all(pairs.map(async ({ db, peer }) => ({ db, peer, state: await peer.request('replication', db.label) as ReplicationState })))
    const short = states.filter(({ db, state }) => state.peers < mesh(db)).sort((a, b) => a.state.peers - b.state.peers)[0]
    fewest = short === undefined ? undefined : { peer: short.peer.index, database: short.db.name, peers: short.state.peers }
    return short === undefined
  }, boundMs)
  return { openMs: summarize(opened.map((r) => r.ms)), seedMs, meshMs, address: opened[0]?.address ?? '', ...(fewest !== undefined ? { fewest } : {}), empty }
}

/** What the peers cost at rest. */
export interface IdleStretch {
  readonly costs: Costs
  /** Catch-up sessions each peer started or served a minute, over its databases (mean). */
  readonly sessionsPerPeerMinute: number
  /** The same, per database label (a peer's wide database, its small one). */
  readonly sessionsByDatabase: Readonly<Record<string, number>>
  /** The machine's load average (1 min) at the stretch's end: other work on it shows here. */
  readonly load: number
}

/** Waits `settleMs` (what an open set off ends), then measures `idleMs` of rest. */
export async function idleStretch (swarm: Swarm, databasesOf: (peer: ScalePeer) => readonly DatabaseSpec[], settleMs: number, idleMs: number): Promise<IdleStretch> {
  await new Promise((resolve) => setTimeout(resolve, settleMs))
  const sessions = async (): Promise<Map<string, number>> => {
    const byLabel = new Map<string, number>()
    await Promise.all(swarm.live.flatMap((p) => databasesOf(p).map(async (db) => {
      const state = await p.request('replication', db.label).catch(() => undefined) as ReplicationState | undefined
      byLabel.set(db.label, (byLabel.get(db.label) ?? 0) + (state?.sessions ?? 0))
    })))
    return byLabel
  }
  const [before, sessionsBefore] = [await swarm.usage(), await sessions()]
  await new Promise((resolve) => setTimeout(resolve, idleMs))
  const [after, sessionsAfter] = [await swarm.usage(), await sessions()]
  const spent = costs(before, after)
  const rate = (count: number): number => spent.peers === 0 ? 0 : count / spent.peers / (spent.seconds / 60)
  const byDatabase: Record<string, number> = {}
  for (const [label, count] of sessionsAfter) byDatabase[label] = rate(count - (sessionsBefore.get(label) ?? 0))
  return { costs: spent, sessionsPerPeerMinute: Object.values(byDatabase).reduce((a, b) => a + b, 0), sessionsByDatabase: byDatabase, load: loadavg()[0] ?? 0 }
}
