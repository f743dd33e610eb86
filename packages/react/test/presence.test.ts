import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { memory } from '@libp2p/memory'
import { createLibp2p } from 'libp2p'
import { createDatabase, memoryStorage, type Database, type KadmiumLibp2p, type Peer, type PresencePeer } from '@kadmium/core'
import { kadmiumLibp2pOptions } from '@kadmium/core/profile'
import { usePresence } from '@kadmium/react'
import { mount, settle, waitFor, write } from './dom.ts'

interface Here { nick: string, typing: boolean }

let counter = 0

/** A Kadmium peer on the memory transport, made from the profile, with in-memory storage. */
async function memoryPeer (): Promise<Peer> {
  const privateKey = await generateKeyPair('Ed25519')
  const libp2p: KadmiumLibp2p = await createLibp2p({
    ...kadmiumLibp2pOptions({ network: 'local' }),
    privateKey,
    addresses: { listen: [`/memory/react-presence-${process.pid}-${counter++}`] },
    transports: [memory()]
  })
  return { libp2p, privateKey, storage: () => memoryStorage(), close: async () => { await libp2p.stop() } }
}

test('usePresence shows the peers present, renders on joins, changes and leaves, and not on heartbeats', { timeout: 60_000 }, async () => {
  const [pa, pb] = await Promise.all([memoryPeer(), memoryPeer()])
  const opened: Database<Here>[] = []
  try {
    await pa.libp2p.dial(pb.libp2p.getMultiaddrs())
    const presence = { heartbeat: 100, expiry: 5000 }
    const a = await createDatabase<Here>({ name: 'react-presence', peer: pa, presence })
    const b = await createDatabase<Here>({ name: 'react-presence', peer: pb, presence })
    opened.push(a, b)
    const seen: Array<ReadonlyArray<PresencePeer<Here>>> = []
    function Who (_: { n: number }): null {
      seen.push(usePresence(a))
      return null
    }
    const view = await mount(Who, { n: 0 })
    assert.deepEqual(seen.at(-1), [])

    await write(async () => { b.presence.set({ nick: 'bo', typing: false }) })
    await waitFor(() => seen.at(-1)?.[0]?.state.nick === 'bo', 20_000)
    assert.equal(seen.at(-1)?.[0]?.peer, pb.libp2p.peerId.toString())
    const renders = seen.length
    // Several heartbeats (100 ms) of the same state: no render.
    await settle(500)
    assert.equal(seen.length, renders, 'heartbeats that change nothing render nothing')

    await write(async () => { b.presence.set({ nick: 'bo', typing: true }) })
    await waitFor(() => seen.at(-1)?.[0]?.state.typing === true, 20_000)

    await write(async () => { await b.close() })
    await waitFor(() => seen.at(-1)?.length === 0, 20_000)
    await view.unmount()
  } finally {
    for (const db of opened) await db.close()
    await Promise.all([pa.close(), pb.close()])
  }
})
