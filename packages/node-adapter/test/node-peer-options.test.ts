import assert from 'node:assert/strict'
import { stat } from 'node:fs/promises'
import { after, describe, test } from 'node:test'
import { DHT_PROTOCOL } from '@kadmium/core'
import { databaseDirectoryName, DEFAULT_LISTEN, nodePeer, type NodePeerOptions } from '@kadmium/node'
import { PeerSandbox } from './fixtures/peers.ts'

const TEST_TIMEOUT = { timeout: 30_000 }

describe('nodePeer: options', () => {
  const sandbox = new PeerSandbox()
  after(() => sandbox.close())

  test('listens on TCP and WebSockets on every interface by default', () => {
    assert.deepEqual(DEFAULT_LISTEN, ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/tcp/0/ws'])
  })

  test('bad options reject with InvalidArgumentError, before touching the disk', TEST_TIMEOUT, async () => {
    const dataDir = await sandbox.dir('never-created')
    const bad: unknown[] = [
      undefined,
      {},
      { dataDir: '' },
      { dataDir, network: 'lan' },
      { dataDir, listen: '/ip4/127.0.0.1/tcp/0' },
      { dataDir, bootstrap: [42] }
    ]
    for (const options of bad) {
      await assert.rejects(nodePeer(options as NodePeerOptions), { name: 'InvalidArgumentError' }, JSON.stringify(options))
    }
    await assert.rejects(stat(dataDir), { code: 'ENOENT' })
  })

  test('a public-network peer starts with Kadmium\'s services and DHT protocol, in server mode', TEST_TIMEOUT, async () => {
    const peer = await sandbox.peer('public', { network: 'public' })
    assert.equal(peer.libp2p.services.dht.getMode(), 'server')
    assert.ok(peer.libp2p.getProtocols().includes(DHT_PROTOCOL))
    assert.equal(peer.libp2p.services.pubsub.globalSignaturePolicy, 'StrictNoSign')
    assert.ok(peer.libp2p.getProtocols().some((p) => p.startsWith('/ipfs/ping/')))
  })

  test('database directory names: readable, distinct for distinct names, safe', () => {
    const name = databaseDirectoryName('Acme Todos')
    assert.match(name, /^acme-todos-[0-9a-f]{32}$/)
    assert.notEqual(databaseDirectoryName('acme todos'), name, 'case-insensitive filesystems keep them apart')
    for (const tricky of ['..', '.', 'a/b', 'a\\b', 'CON', '', '🦀', 'x'.repeat(1_000)]) {
      assert.match(databaseDirectoryName(tricky), /^([a-z0-9-]{1,33}-)?[0-9a-f]{32}$/, tricky)
    }
  })
})
