/**
 * From a scale run's measured per-unit costs to a network of any size:
 * DHT records and republish traffic per peer, lookup hops, gossip traffic
 * per database, the load on the peers a popular database's address lands
 * on, and which limit a network meets first. Arithmetic only (unit-tested);
 * docs/scaling.md states the formulas and their assumptions.
 * @module
 */

/** kad-dht's replication factor and bucket size (k). */
export const K = 20
/** The peers a Kadmium record's head set keeps (servers evict the oldest of more authors). */
export const MAX_AUTHORS = 16
/** kad-dht's largest message (bytes): a larger answer is refused. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024
/** libp2p's connection cap on Node.js (`maxConnections`). */
export const MAX_CONNECTIONS = 300
/** How often Kadmium announces a database and looks for its peers (s): `discoveryInterval`. */
export const DISCOVERY_SECONDS = 60
/** How often a replica puts every record it holds again (h): `republishInterval`. */
export const REPUBLISH_HOURS = 22
/** gossipsub's mesh degree in Kadmium's profile (D). */
export const MESH_DEGREE = 8
/**
 * Bytes of one provider in a GET_PROVIDERS answer: its peer id (a 38-byte
 * multihash), one TCP multiaddr (20 bytes over IPv6, 8 over IPv4) and
 * protobuf framing.
 */
export const PROVIDER_ENTRY_BYTES = 66

/** What a run measured, per unit of work. */
export interface UnitCosts {
  /** Peers of the run. */
  readonly n: number
  /** Hops of a closest-peers lookup (mean depth). */
  readonly hops: number
  /** Peers queried by a lookup (mean). */
  readonly queried: number
  /** Bytes on the wire (request and answer, headers included) per peer a lookup queries. */
  readonly bytesPerQuery: number
  /** CPU seconds per peer a lookup queries, both sides (asking, answering). */
  readonly cpuPerQuery: number
  /** Bytes of one author's head of a record, as stored (a small record's state rides inside it). */
  readonly headBytes: number
  /** DHT keys per record written (its head, and the collection indexes and manifests, spread over the records). */
  readonly keysPerRecord: number
  /**
   * Bytes one write costs (sent + received on a peer's interface): its
   * writer (gossip sent, its DHT puts), and each subscriber (the envelope
   * and its duplicates, forwarding, storing).
   */
  readonly writeBytes: { readonly fixed: number, readonly perSubscriber: number }
  /** CPU seconds one write costs its writer, and each subscriber. */
  readonly writeCpu: { readonly fixed: number, readonly perSubscriber: number }
  /** A peer at rest with no database: bytes/s sent + received, % of a core. */
  readonly bare: { readonly bytesPerSecond: number, readonly cpuPercent: number }
  /** A database at rest, per peer: bytes/s (sent + received) paid once, and per connected peer of the database. */
  readonly databaseIdle: { readonly fixed: number, readonly perConnectedPeer: number }
  /** Private memory of a peer (bytes). */
  readonly memoryBytes: number
}

/** What the peers do: the workload a projection assumes. */
export interface Workload {
  /** Databases each peer has open. */
  readonly databasesPerPeer: number
  /** Peers that have each database open (its subscribers). */
  readonly subscribers: number
  /** Records in each database. */
  readonly recordsPerDatabase: number
  /** Records each peer writes a day, over all its databases. */
  readonly writesPerPeerPerDay: number
}

/** A network of `peers` peers running `workload`, per peer unless said. */
export interface Projection {
  readonly peers: number
  readonly hops: number
  readonly queried: number
  readonly lookupBytes: number
  /** DHT values this peer stores for the network, and their bytes (each record's head set: one head per replica, at most 16). */
  readonly storedValues: number
  readonly storedBytes: number
  /** Puts this peer makes a day: every record it holds is put again every 22 h, by each replica. */
  readonly putsPerDay: number
  /** DHT traffic of those puts and the network's puts it stores, sent + received, bytes/s. */
  readonly dhtBytesPerSecond: number
  /** Discovery (announce and look, every 60 s per database), bytes/s. */
  readonly discoveryBytesPerSecond: number
  /** Gossip: one database's writes a second and the bytes one write costs the network; what the peer's databases' gossip costs it (bytes/s, % of a core); mesh hops to the farthest subscriber. */
  readonly gossip: { readonly writesPerSecond: number, readonly networkBytesPerWrite: number, readonly bytesPerSecond: number, readonly cpuPercent: number, readonly meshHops: number }
  /** At rest: bytes/s and CPU of the peer's databases and node. */
  readonly idleBytesPerSecond: number
  /** Connections a peer of a database wants to keep (capped by libp2p at 300). */
  readonly connections: number
  /** Each of the k peers closest to one database's address: provider entries, requests a second, bytes/s of answers, one GET_PROVIDERS answer's bytes. */
  readonly hotspot: { readonly providers: number, readonly requestsPerSecond: number, readonly answerBytes: number, readonly bytesPerSecond: number, readonly cpuPercent: number }
  /** Total traffic per peer (bytes/s): DHT, discovery, gossip, rest. */
  readonly bytesPerSecond: number
}

/** Kademlia's expected hops with buckets of k: each hop gains about log2(k) bits, the first hop's table already holds the k closest of a small network. */
export function modelHops (peers: number, k = K): number {
  return 1 + Math.log2(Math.max(1, peers / k)) / Math.log2(k)
}

/** Projects `unit` (measured at `unit.n` peers) to `peers` peers running `workload`. */
export function project (unit: UnitCosts, workload: Workload, peers: number): Projection {
  const { databasesPerPeer: d, recordsPerDatabase: r, writesPerPeerPerDay: w } = workload
  const s = Math.min(workload.subscribers, peers)
  // Hops and peers queried follow Kademlia's model, calibrated on what was measured.
  const hops = unit.hops * modelHops(peers) / modelHops(unit.n)
  const queried = unit.queried * hops / unit.hops
  const lookupBytes = queried * unit.bytesPerQuery
  // Every database's records, on k peers each, spread evenly: N·d/s databases × r records × keys per record × k copies ÷ N peers.
  const storedValues = d * r * unit.keysPerRecord * K / s
  const storedBytes = storedValues * Math.min(s, MAX_AUTHORS) * unit.headBytes
  // Each replica puts what it holds every 22 h, and each write puts its record.
  const putsPerDay = d * r * unit.keysPerRecord * 24 / REPUBLISH_HOURS + w * unit.keysPerRecord
  // A put: a lookup, then k PUT_VALUEs, each echoed back. What this peer sends, the peers it stores for receive: ×2.
  const putBytes = lookupBytes + 2 * K * unit.headBytes
  const dhtBytesPerSecond = 2 * putsPerDay * putBytes / 86_400
  const discoveryBytesPerSecond = d * 2 * lookupBytes / DISCOVERY_SECONDS
  // Gossip: a peer's w writes a day are spread over its d databases; each reaches the database's s subscribers.
  const writesPerSecond = s * w / d / 86_400
  // Each byte on the wire is counted twice in the peers' sent + received: once by its sender, once by its receiver.
  const networkBytesPerWrite = (unit.writeBytes.fixed + s * unit.writeBytes.perSubscriber) / 2
  const received = d * writesPerSecond
  const own = w / 86_400
  const gossipBytes = received * unit.writeBytes.perSubscriber + own * unit.writeBytes.fixed
  const gossipCpu = 100 * (received * unit.writeCpu.perSubscriber + own * unit.writeCpu.fixed)
  const connections = Math.min(MAX_CONNECTIONS, d * (s - 1))
  const idleBytesPerSecond = unit.bare.bytesPerSecond + d * unit.databaseIdle.fixed + Math.min(MAX_CONNECTIONS, s - 1) * d * unit.databaseIdle.perConnectedPeer
  // The k peers closest to a database's address hold a provider entry per subscriber, and each subscriber announces
  // (ADD_PROVIDER) and looks (GET_PROVIDERS, answered with every entry) every 60 s.
  const requestsPerSecond = 2 * s / DISCOVERY_SECONDS
  const answerBytes = s * PROVIDER_ENTRY_BYTES
  const hotBytes = (s / DISCOVERY_SECONDS) * answerBytes
  return {
    peers,
    hops,
    queried,
    lookupBytes,
    storedValues,
    storedBytes,
    putsPerDay,
    dhtBytesPerSecond,
    discoveryBytesPerSecond,
    gossip: { writesPerSecond, networkBytesPerWrite, bytesPerSecond: gossipBytes, cpuPercent: gossipCpu, meshHops: Math.max(1, Math.log(s) / Math.log(MESH_DEGREE)) },
    idleBytesPerSecond,
    connections,
    hotspot: { providers: s, requestsPerSecond, answerBytes, bytesPerSecond: hotBytes, cpuPercent: 100 * requestsPerSecond * unit.cpuPerQuery },
    bytesPerSecond: dhtBytesPerSecond + discoveryBytesPerSecond + gossipBytes + idleBytesPerSecond
  }
}

/** A limit a network meets, and the size at which it meets it. */
export interface Limit {
  readonly what: string
  /** Subscribers of one database at which it is met. */
  readonly subscribers: number
}

/**
 * The limits one database meets as its subscribers grow, each at the
 * number of subscribers where it is met: a GET_PROVIDERS answer past
 * kad-dht's 4 MiB, more peers than libp2p keeps connections to, the
 * peers holding its address spending a core answering discovery, and
 * a subscriber spending a core applying the database's writes (each
 * subscriber writing `writesPerSubscriberPerDay` to it).
 */
export function limits (unit: UnitCosts, writesPerSubscriberPerDay: number): Limit[] {
  const found: Limit[] = [
    { what: 'a GET_PROVIDERS answer (every provider entry) passes kad-dht\'s 4 MiB message cap: discovery of the database fails', subscribers: Math.floor(MAX_MESSAGE_BYTES / PROVIDER_ENTRY_BYTES) },
    { what: 'more peers of the database than libp2p keeps connections to (300): connections pruned and redialed', subscribers: MAX_CONNECTIONS + 1 },
    { what: 'each of the k peers closest to the address spends a core answering announcements and lookups', subscribers: unit.cpuPerQuery > 0 ? Math.floor(DISCOVERY_SECONDS / (2 * unit.cpuPerQuery)) : Infinity }
  ]
  const perSubscriberCpu = unit.writeCpu.perSubscriber
  if (perSubscriberCpu > 0 && writesPerSubscriberPerDay > 0) {
    // s subscribers writing w a day each to the database: s·w/86,400 writes a second, each costing every subscriber its apply.
    found.push({ what: `a subscriber spends a core applying the database's writes (${writesPerSubscriberPerDay} writes per subscriber a day)`, subscribers: Math.floor(86_400 / (writesPerSubscriberPerDay * perSubscriberCpu)) })
  }
  return found.sort((a, b) => a.subscribers - b.subscribers)
}
