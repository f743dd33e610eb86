/**
 * The `kadmium` command as real processes: help and bad arguments, the
 * identity, and `serve` — a writer that stops and a reader that never met
 * it meet through the server; pin, unpin and status on a running server;
 * a restart keeps pins and data; SIGTERM right after a write loses nothing.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { createDatabase, type Database } from '@kadmium/core'
import { peerIdFromString } from '@libp2p/peer-id'
import { z } from 'zod'
import { requestControl } from '../src/cli/control.ts'
import type { ServerStatus } from '../src/cli/server.ts'
import { kadmium, serve, start, type Serving } from './fixtures/cli.ts'
import { PeerSandbox, waitFor } from './fixtures/peers.ts'

const Todo = z.object({ title: z.string(), n: z.number() })
const LOOPBACK = ['--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--network', 'local']
const COMMANDS = ['id', 'serve', 'pin', 'unpin', 'status', 'get', 'put', 'watch', 'export', 'import']

const sandbox = new PeerSandbox()
const servers: Serving[] = []
const dbs: Database[] = []
after(async () => {
  await Promise.allSettled(dbs.map(async (db) => db.close()))
  await Promise.allSettled(servers.map(async (s) => s.stop('SIGKILL')))
  await sandbox.close()
})

/** Parses the Prometheus text format: every sample by its name and labels; throws on a line that is not one. */
function parseMetrics (text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue
    const match = /^([a-z_]+(?:\{(?:[a-z_]+="[^"]*",?)*\})?) (-?[0-9.e+]+)$/.exec(line)
    if (match === null) throw new Error(`not a sample: ${line}`)
    samples.set(match[1] ?? '', Number(match[2]))
  }
  return samples
}

/** The status of the server on `dataDir`. */
async function statusOf (dataDir: string): Promise<ServerStatus> {
  const answer = await requestControl(dataDir, { op: 'status' })
  if (answer === undefined || !answer.ok) throw new Error(`no status: ${JSON.stringify(answer)}`)
  return answer.result as ServerStatus
}

/** Live records of `collection` in the server's pin of `address`. */
async function pinnedRecords (dataDir: string, address: string, collection = 'todos'): Promise<number | undefined> {
  return (await statusOf(dataDir)).pins.find((p) => p.address === address)?.records?.[collection]
}

describe('the kadmium command', { timeout: 180_000 }, () => {
  test('--help for every command; a wrong command line says so in one line and exits with 2', async () => {
    const top = await kadmium(['--help'])
    assert.equal(top.code, 0)
    for (const name of COMMANDS) assert.match(top.stdout, new RegExp(`^  ${name} `, 'm'))
    for (const name of COMMANDS) {
      const help = await kadmium([name, '--help'])
      assert.equal(help.code, 0, help.stderr)
      assert.match(help.stdout, new RegExp(`^usage: kadmium ${name}`))
      assert.match(help.stdout, /--help/)
    }
    const serveHelp = await kadmium(['serve', '--help'])
    for (const address of ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws', '/ip4/0.0.0.0/udp/4001/webrtc-direct']) {
      assert.ok(serveHelp.stdout.includes(address), `serve listens on ${address} by default: ${serveHelp.stdout}`)
    }
    for (const bad of [['nope'], ['get', 'only-one'], ['serve', '--bogus'], ['pin'], ['pin', 'not-an-address'], ['serve', '--pin', 'not-an-address'], ['get', 'not-an-address', 'todos'], ['put', 'a', 'b', 'not json'], ['serve', '--network', 'lan']]) {
      const ran = await kadmium(bad)
      assert.equal(ran.code, 2, `${bad.join(' ')}: ${ran.stderr}`)
      assert.equal(ran.stderr.trim().split('\n').length, 1, `one line: ${ran.stderr}`)
      assert.equal(ran.stdout, '')
    }
  })

  test('id creates the identity once, then shows it', async () => {
    const dir = await sandbox.dir('id')
    const first = await kadmium(['id', '--data', dir])
    const again = await kadmium(['id', '--data', dir])
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /^12D3Koo\w+\n$/)
    assert.equal(again.stdout, first.stdout)
  })

  test('serve: a writer writes through the server and stops; a reader that never met it reads everything; get and put from the shell', async () => {
    const dir = await sandbox.dir('server')
    const server = await serve(['--data', dir, ...LOOPBACK, '--listen', '/ip4/127.0.0.1/udp/0/webrtc-direct', '--metrics', '127.0.0.1:0'])
    servers.push(server)
    assert.match(server.peerId, /^12D3Koo/)
    assert.ok(server.tcp.length > 0 && server.ws.length > 0 && server.webRTCDirect.length > 0, server.output())
    assert.ok([...server.tcp, ...server.ws, ...server.webRTCDirect].every((a) => a.startsWith('/ip4/127.0.0.1/') && a.endsWith(`/p2p/${server.peerId}`)), server.output())
    assert.ok(server.webRTCDirect.every((a) => /\/udp\/\d+\/webrtc-direct\/certhash\/[\w-]+\/p2p\//.test(a)), server.output())

    const writerPeer = await sandbox.peer('writer', { bootstrap: [server.tcp[0] ?? ''] })
    const writer = await createDatabase({ name: 'shared-todos', peer: writerPeer })
    dbs.push(writer)
    const protocols = async (): Promise<string[]> => (await writerPeer.libp2p.peerStore.get(peerIdFromString(server.peerId)).catch(() => undefined))?.protocols ?? []
    await waitFor('the server identified as a circuit relay server (and a Kadmium DHT server)', async () => (await protocols()).includes('/libp2p/circuit/relay/0.2.0/hop'), 20_000)
    const pinned = await kadmium(['pin', writer.address, '--data', dir])
    assert.equal(pinned.code, 0, pinned.stderr)
    assert.equal((JSON.parse(pinned.stdout) as { state: string }).state, 'open', pinned.stdout)
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'pins.json'), 'utf8')), [writer.address])
    const todos = writer.collection('todos', { schema: Todo })
    const written = new Map<string, number>()
    for (let n = 0; n < 20; n++) written.set(await todos.insert({ title: `todo ${n}`, n }), n)
    await waitFor('the server holds all 20 records', async () => await pinnedRecords(dir, writer.address) === 20, 20_000)
    const metricsUrl = /^metrics (http:\S+)$/m.exec(server.output())?.[1] ?? ''
    const scrape = async (): Promise<Map<string, number>> => parseMetrics(await (await fetch(metricsUrl)).text())
    // (A peer's live updates are stored, and counted, a moment after they show.)
    await waitFor('the 20 updates counted', async () => ((await scrape()).get(`kadmium_updates_received_total{database="${writer.address}",target="record"}`) ?? 0) >= 20)
    const metrics = await scrape()
    assert.equal(metrics.get(`kadmium_records{database="${writer.address}",collection="todos"}`), 20)
    assert.ok((metrics.get('kadmium_connections') ?? 0) >= 1)
    assert.equal(metrics.get('kadmium_databases{state="open"}'), 1)
    assert.ok((metrics.get('kadmium_gossip_messages_received_total') ?? 0) > 0, 'live writes came by gossip')
    const health = await fetch(metricsUrl.replace('/metrics', '/health'))
    assert.equal(health.status, 200)
    await writer.close()
    await writerPeer.close()

    const readerPeer = await sandbox.peer('reader', { bootstrap: [server.tcp[0] ?? ''] })
    const reader = await createDatabase({ address: writer.address, peer: readerPeer })
    dbs.push(reader)
    const read = reader.collection('todos', { schema: Todo })
    await waitFor('the reader has all 20 records', async () => await read.count() === 20, 20_000)
    for (const [id, n] of written) assert.equal((await read.get(id))?.n, n)
    await reader.close()
    await readerPeer.close()

    const shell = ['--bootstrap', server.tcp[0] ?? '', '--network', 'local']
    const got = await kadmium(['get', writer.address, 'todos', ...shell])
    assert.equal(got.code, 0, got.stderr)
    const rows = got.stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: string, n: number })
    assert.equal(rows.length, 20)
    const one = await kadmium(['get', writer.address, 'todos', [...written.keys()][3] ?? '', ...shell])
    assert.equal((JSON.parse(one.stdout) as { n: number }).n, 3, one.stderr)
    const put = await kadmium(['put', writer.address, 'todos', '-', ...shell], { input: '{"title":"from the shell","n":100}\n{"id":"fixed-id","title":"upserted","n":101}\n' })
    assert.equal(put.code, 0, put.stderr)
    assert.equal(put.stdout.trim().split('\n').length, 2)
    assert.equal(put.stdout.trim().split('\n')[1], 'fixed-id')
    await waitFor('the server holds the shell\'s records', async () => await pinnedRecords(dir, writer.address) === 22, 20_000)
    const missing = await kadmium(['get', writer.address, 'todos', 'no-such-id', ...shell])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /NotFoundError/)

    const stopped = await server.stop('SIGTERM')
    assert.equal(stopped.code, 0, server.output())
    assert.match(server.output(), /SIGTERM: storing and closing\nclosed/)
  })

  test('watch prints each change as a JSON line; export writes a whole database that import writes into another', async () => {
    const dir = await sandbox.dir('moves')
    const server = await serve(['--data', dir, ...LOOPBACK])
    servers.push(server)
    const peer = await sandbox.peer('moves-writer', { bootstrap: [server.tcp[0] ?? ''] })
    const from = await createDatabase({ name: 'moves-from', peer })
    const to = await createDatabase({ name: 'moves-to', peer })
    dbs.push(from, to)
    for (const db of [from, to]) assert.equal((await kadmium(['pin', db.address, '--data', dir])).code, 0)
    const todos = from.collection('todos', { schema: Todo })
    const notes = from.collection('notes', { schema: z.object({ body: z.string() }) })
    for (let n = 0; n < 30; n++) await todos.insert({ title: `t${n}`, n })
    await notes.insert({ body: 'a note' })
    await waitFor('the server holds them', async () => await pinnedRecords(dir, from.address) === 30 && await pinnedRecords(dir, from.address, 'notes') === 1, 20_000)

    const shell = ['--bootstrap', server.tcp[0] ?? '', '--network', 'local']
    const watching = await start(['watch', from.address, 'todos', ...shell], /^watching /m)
    const id = await todos.insert({ title: 'watched', n: 99 })
    await todos.delete(id)
    await watching.until(/"type":"delete"/)
    const changes = watching.stdout().trim().split('\n').map((line) => JSON.parse(line) as { type: string, id: string, record?: { title: string } })
    assert.deepEqual(changes.map((c) => [c.type, c.id]), [['insert', id], ['delete', id]])
    assert.equal(changes[0]?.record?.title, 'watched')
    assert.equal((await watching.stop('SIGINT')).code, 0)

    const file = join(dir, 'backup.jsonl')
    const exported = await kadmium(['export', from.address, '--out', file, ...shell])
    assert.equal(exported.code, 0, exported.stderr)
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { collection: string, id: string, record: Record<string, unknown> })
    assert.equal(lines.length, 31)
    assert.deepEqual(new Set(lines.map((l) => l.collection)), new Set(['notes', 'todos']))
    const imported = await kadmium(['import', to.address, file, ...shell])
    assert.equal(imported.code, 0, imported.stderr)
    await waitFor('the other database holds the import', async () => await pinnedRecords(dir, to.address) === 30 && await pinnedRecords(dir, to.address, 'notes') === 1, 20_000)
    const copy = to.collection('todos', { schema: Todo })
    await waitFor('the writer sees the import', async () => await copy.count() === 30, 20_000)
    for (const line of lines.filter((l) => l.collection === 'todos')) assert.deepEqual({ ...await copy.get(line.id) }, { id: line.id, ...line.record })
    const bad = await kadmium(['import', to.address, '-', ...shell], { input: '{"not":"an export line"}\n' })
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /line 1 is not/)
  })

  test('pin and unpin on a running server; a restart keeps pins and data; SIGTERM right after a write loses nothing', async () => {
    const dir = await sandbox.dir('restarted')
    let server = await serve(['--data', dir, ...LOOPBACK])
    servers.push(server)
    const peer = await sandbox.peer('restart-writer', { bootstrap: [server.tcp[0] ?? ''] })
    const db = await createDatabase({ name: 'kept', peer })
    const other = await createDatabase({ name: 'dropped', peer })
    dbs.push(db, other)
    assert.equal((await kadmium(['pin', db.address, '--data', dir])).code, 0)
    assert.equal((await kadmium(['pin', other.address, '--data', dir])).code, 0)
    assert.deepEqual((await statusOf(dir)).pins.map((p) => p.address).sort(), [db.address, other.address].sort())
    const unpinned = await kadmium(['unpin', other.address, '--data', dir])
    assert.equal((JSON.parse(unpinned.stdout) as { unpinned: boolean }).unpinned, true, unpinned.stdout)
    assert.deepEqual((await statusOf(dir)).pins.map((p) => p.address), [db.address])
    await other.close()

    const todos = db.collection('todos', { schema: Todo })
    for (let n = 0; n < 5; n++) await todos.insert({ title: `t${n}`, n })
    await waitFor('the server holds 5 records', async () => await pinnedRecords(dir, db.address) === 5, 20_000)
    await db.close()
    await peer.close()
    // A write acknowledged by the server (put resolves after its catch-up with it), then at once SIGTERM.
    const put = await kadmium(['put', db.address, 'todos', '{"title":"last","n":5}', '--bootstrap', server.tcp[0] ?? '', '--network', 'local'])
    assert.equal(put.code, 0, put.stderr)
    const stopped = await server.stop('SIGTERM')
    assert.equal(stopped.code, 0, server.output())

    // Restarted alone (no peer to reach): the pin opens from the data directory, with every record.
    server = await serve(['--data', dir, ...LOOPBACK])
    servers.push(server)
    await waitFor('the pin open again', async () => (await statusOf(dir)).pins[0]?.state === 'open', 20_000)
    const status = await statusOf(dir)
    assert.deepEqual(status.pins.map((p) => p.address), [db.address])
    assert.equal(status.pins[0]?.records?.todos, 6)
    const shown = await kadmium(['status', '--data', dir])
    assert.equal(shown.code, 0)
    assert.equal((JSON.parse(shown.stdout) as ServerStatus).peerId, server.peerId)
    assert.equal((await server.stop('SIGINT')).code, 0)
    const none = await kadmium(['status', '--data', dir])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /no server runs/)
  })
})
