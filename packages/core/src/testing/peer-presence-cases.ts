import { assert, assertDeepEqual, assertEqual } from './assert.ts'
import type { PeerCaseDefinition } from './peer-harness.ts'

/** Presence between two peers of the platform: a state arrives, changes, and leaves with its database. */
export const peerPresenceCases: readonly PeerCaseDefinition[] = [
  {
    name: 'peer: a presence state set on one peer shows on the other, follows its changes, and is gone once its database closes',
    body: async ({ peer, connect, open, waitFor }) => {
      const a = await peer()
      const b = await peer()
      const dbA = await open(a, { name: 'presence' })
      const dbB = await open(b, { name: 'presence' })
      await connect(a, b)
      const seen: string[] = []
      const stop = dbB.presence.subscribe((present) => { seen.push(present.map((p) => String(p.state.nick)).join()) })
      try {
        dbA.presence.set({ nick: 'ada', typing: false })
        await waitFor('A\'s presence state at B', () => dbB.presence.peers().length === 1)
        const [present] = dbB.presence.peers()
        assertEqual(present?.peer, a.libp2p.peerId.toString(), 'the state is keyed by A\'s peer id')
        assertDeepEqual(present?.state, { nick: 'ada', typing: false }, 'A\'s state at B')
        dbA.presence.set({ nick: 'ada', typing: true })
        await waitFor('A\'s new state at B', () => dbB.presence.peers()[0]?.state.typing === true)
        assertEqual(dbA.presence.peers().length, 0, 'B set no state: A shows nobody')
        await dbA.close()
        await waitFor('A to be gone from B\'s presence once its database closed', () => dbB.presence.peers().length === 0)
        assert(seen.includes('ada') && seen.at(-1) === '', `B's subscription saw A come and go: ${JSON.stringify(seen)}`)
      } finally {
        stop()
      }
    }
  }
]
