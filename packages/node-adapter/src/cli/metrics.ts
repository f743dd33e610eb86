/**
 * A server's metrics over HTTP (`kadmium serve --metrics HOST:PORT`):
 * `/metrics` in the Prometheus text format, `/health` for load balancers
 * and process managers. Counters come from the databases' public events;
 * gauges are read at each scrape.
 * @module
 */
import { createServer, type Server } from 'node:http'
import type { Database } from '@kadmium/core'
import type { NodePeer } from '../node-peer.ts'
import { UsageError } from './usage.ts'

/** A metric's samples: labels and value. */
type Samples = Array<readonly [labels: Readonly<Record<string, string>>, value: number]>

/** What the metrics read at each scrape. */
export interface MetricsSource {
  readonly peer: NodePeer
  /** The open pinned databases, by address. */
  readonly databases: () => ReadonlyMap<string, Database>
  /** Pins not open (yet). */
  readonly opening: () => number
  /** Live records per database and collection. */
  readonly records: () => Promise<Samples>
}

/** Counters fed by database events. */
export class Counters {
  readonly #counts = new Map<string, Map<string, { labels: Record<string, string>, value: number }>>()

  add (metric: string, labels: Record<string, string>, by = 1): void {
    let series = this.#counts.get(metric)
    if (series === undefined) this.#counts.set(metric, series = new Map<string, { labels: Record<string, string>, value: number }>())
    const key = JSON.stringify(labels)
    const current = series.get(key)
    if (current === undefined) series.set(key, { labels, value: by })
    else current.value += by
  }

  samples (metric: string): Samples {
    return [...this.#counts.get(metric)?.values() ?? []].map((s) => [s.labels, s.value] as const)
  }

  /** Counts a database's events (call once per database opened); returns what stops it. */
  watch (db: Database): () => void {
    const database = db.address
    const offs = [
      db.on('update', (e) => { if (e.origin !== 'local') this.add('kadmium_updates_received_total', { database, target: e.target }) }),
      db.on('sync', (e) => {
        if (e.phase === 'start') this.add('kadmium_sync_sessions_total', { database, outcome: 'started' })
        else if (e.phase === 'done') {
          this.add('kadmium_sync_sessions_total', { database, outcome: 'done' })
          this.add('kadmium_sync_updates_received_total', { database }, e.done)
        } else if (e.phase === 'error') this.add('kadmium_sync_sessions_total', { database, outcome: 'failed' })
      }),
      db.on('rejected', (e) => { this.add('kadmium_refused_inputs_total', { database, via: e.via, reason: e.reason.split(':')[0] ?? 'Error' }) })
    ]
    return () => { for (const off of offs) off() }
  }
}

const HELP: Readonly<Record<string, readonly [type: 'gauge' | 'counter', help: string]>> = {
  kadmium_connections: ['gauge', 'Open libp2p connections.'],
  kadmium_databases: ['gauge', 'Pinned databases, by state.'],
  kadmium_records: ['gauge', 'Live records, by database and collection.'],
  kadmium_database_peers: ['gauge', 'Connected peers subscribed to a database.'],
  kadmium_dht_pending_puts: ['gauge', 'Writes not yet durable on the device or put in the DHT, by database (the republish backlog).'],
  kadmium_dht_parked_puts: ['gauge', 'DHT puts parked (written offline, or given up after their attempts), by database.'],
  kadmium_dht_republishing_records: ['gauge', 'Records and indexes kept for republishing in the DHT, by database.'],
  kadmium_gossip_dropped_envelopes_total: ['counter', 'Live envelopes dropped unapplied (flood bound, apply budget), by database.'],
  kadmium_gossip_messages_received_total: ['counter', 'Gossipsub messages received, on every topic.'],
  kadmium_updates_received_total: ['counter', 'Updates from peers committed, by database and target.'],
  kadmium_sync_sessions_total: ['counter', 'Catch-up sessions, by database and outcome.'],
  kadmium_sync_updates_received_total: ['counter', 'Updates received in catch-up sessions, by database.'],
  kadmium_refused_inputs_total: ['counter', 'Input from the network refused, by database, where it came from and the error.']
}

function escape (value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

/** The text format of one metric. */
function render (name: string, samples: Samples): string {
  const [type, help] = HELP[name] ?? ['gauge', name]
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`]
  for (const [labels, value] of samples) {
    const entries = Object.entries(labels)
    lines.push(`${name}${entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`} ${value}`)
  }
  return lines.join('\n') + '\n'
}

/** Every metric now, in the Prometheus text format. */
export async function scrape (source: MetricsSource, counters: Counters): Promise<string> {
  const dbs = [...source.databases()]
  const perDb = (value: (db: Database) => number): Samples => dbs.map(([address, db]) => [{ database: address }, value(db)] as const)
  const parts = [
    render('kadmium_connections', [[{}, source.peer.libp2p.getConnections().length]]),
    render('kadmium_databases', [[{ state: 'open' }, dbs.length], [{ state: 'opening' }, source.opening()]]),
    render('kadmium_records', await source.records()),
    render('kadmium_database_peers', perDb((db) => db.status.peers)),
    render('kadmium_dht_pending_puts', perDb((db) => db.status.pendingWrites)),
    render('kadmium_dht_parked_puts', perDb((db) => db.status.dht?.parked ?? 0)),
    render('kadmium_dht_republishing_records', perDb((db) => db.status.dht?.republishing ?? 0)),
    render('kadmium_gossip_dropped_envelopes_total', perDb((db) => db.status.droppedEnvelopes))
  ]
  for (const name of ['kadmium_gossip_messages_received_total', 'kadmium_updates_received_total', 'kadmium_sync_sessions_total', 'kadmium_sync_updates_received_total', 'kadmium_refused_inputs_total']) {
    parts.push(render(name, counters.samples(name)))
  }
  return parts.join('')
}

/**
 * Parses `HOST:PORT` (`:PORT`: every interface).
 * @throws {UsageError} it is not one
 */
export function metricsAddress (text: string): { host: string, port: number } {
  const at = text.lastIndexOf(':')
  const port = Number(text.slice(at + 1))
  if (at < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--metrics takes HOST:PORT (127.0.0.1:9464), not "${text}"`)
  return { host: text.slice(0, at) === '' ? '0.0.0.0' : text.slice(0, at).replace(/^\[|\]$/g, ''), port }
}

/** Serves `/metrics` and `/health`; resolves once listening (its address in `server.address()`). */
export async function serveMetrics (address: { host: string, port: number }, source: MetricsSource, counters: Counters, healthy: () => boolean): Promise<Server> {
  counters.add('kadmium_gossip_messages_received_total', {}, 0)
  source.peer.libp2p.services.pubsub.addEventListener('message', () => { counters.add('kadmium_gossip_messages_received_total', {}) })
  const server = createServer((request, response) => {
    if (request.url === '/health') {
      const ok = healthy()
      response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'stopping\n')
      return
    }
    if (request.url !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /metrics or /health\n')
      return
    }
    scrape(source, counters).then((text) => {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text)
    }, (error: Error) => {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.name}: ${error.message}\n`)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(address.port, address.host, () => { resolve() })
  })
  return server
}
