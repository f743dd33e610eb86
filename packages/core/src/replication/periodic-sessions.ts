/**
 * Whom the periodic catch-up runs a session with: every connected peer
 * not caught up with yet, and a few of the others at random — gossip
 * carries writes live and these sessions repair what it missed, so a few a
 * round spread a repair through a database's peers in a few rounds (what
 * one session brings, the next ones pass on), while a session with every
 * connected peer each round would make a peer's work at rest grow with its
 * connections.
 * @module
 */

/** Periodic sessions with peers already caught up with, per round at most. */
export const PERIODIC_SESSIONS = 4

/** What the choice needs to know of a peer. */
export interface PeriodicPeer<P> {
  readonly peer: P
  /** Its id, as a string (one choice per peer, however many connections). */
  readonly key: string
  /** A session with it ended well since the database opened. */
  readonly synced: boolean
  /** This side leads the pair (the peer with the lower id dials). */
  readonly leads: boolean
}

/**
 * The peers of one round: every peer not caught up with yet, then `max` of
 * those caught up with that this side leads (the other side of a pair
 * chooses its own), picked with `random` (values in [0, 1)).
 */
export function periodicSessions<P> (peers: Iterable<PeriodicPeer<P>>, max = PERIODIC_SESSIONS, random: () => number = Math.random): P[] {
  const fresh = new Map<string, P>()
  const led = new Map<string, P>()
  for (const p of peers) {
    if (!p.synced) fresh.set(p.key, p.peer)
    else if (p.leads) led.set(p.key, p.peer)
  }
  const pool = [...led.values()]
  const count = Math.min(max, pool.length)
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (pool.length - i))
    const swap = pool[i] as P
    pool[i] = pool[j] as P
    pool[j] = swap
  }
  return [...fresh.values(), ...pool.slice(0, count)]
}
