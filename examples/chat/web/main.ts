/**
 * Kadmium chat in the browser: the same rooms as the CLI (`../cli.ts`).
 * The room, nick and server come from the query
 * (`?room=lobby&nick=bob&bootstrap=/ip4/127.0.0.1/tcp/4002/ws/p2p/...`),
 * or from the form shown when one is missing. A browser syncs through an
 * always-on Node peer: a `kadmium serve`, given as `bootstrap`.
 *
 * `body[data-state]` says where the page is: `setup` (the form),
 * `connecting`, `ready`, or `failed` (the reason in `#status`).
 * @module
 */
import { browserPeer, indexedDbStorage, type BrowserPeer } from '@kadmium/browser'
import { NICK_PATTERN, Room } from '../room.ts'
import { showChat, showStatus } from './chat-view.ts'

interface Setup {
  readonly room: string
  readonly nick: string
  readonly bootstrap: readonly string[]
  readonly network: 'local' | 'public'
}

/** What the query gives; the network is `local` on a page served from this machine unless said otherwise. */
function readQuery (): Partial<Setup> & { network: 'local' | 'public' } {
  const query = new URLSearchParams(location.search)
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(location.hostname)
  return {
    room: query.get('room') ?? undefined,
    nick: query.get('nick') ?? undefined,
    bootstrap: query.getAll('bootstrap'),
    network: query.get('network') === 'public' || (!local && query.get('network') !== 'local') ? 'public' : 'local'
  }
}

/** Shows the form, filled with what the query gave; joining reloads the page with the query complete. */
function askForSetup (given: Partial<Setup> & { network: 'local' | 'public' }): void {
  document.body.dataset.state = 'setup'
  const form = document.querySelector<HTMLFormElement>('#join')
  if (form === null) throw new Error('the page has no #join')
  const field = (name: string): HTMLInputElement | HTMLTextAreaElement => form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement
  field('room').value = given.room ?? 'lobby'
  field('nick').value = given.nick ?? ''
  field('bootstrap').value = (given.bootstrap ?? []).join('\n')
  form.hidden = false
  field('nick').addEventListener('input', () => {
    field('nick').setCustomValidity(NICK_PATTERN.test(field('nick').value.trim()) ? '' : 'letters, digits, _, - or . (not first), up to 32')
  })
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const query = new URLSearchParams({ room: field('room').value.trim(), nick: field('nick').value.trim(), network: given.network })
    for (const line of field('bootstrap').value.split('\n')) if (line.trim() !== '') query.append('bootstrap', line.trim())
    location.search = query.toString()
  })
}

async function join (setup: Setup): Promise<void> {
  document.body.dataset.state = 'connecting'
  showStatus(setup.bootstrap.length === 0 ? 'no server given: messages stay on this device' : `connecting to ${setup.bootstrap.join(', ')}…`)
  // One identity and one store per nick, so that two tabs of this origin can be two users.
  const peer: BrowserPeer = await browserPeer({
    network: setup.network,
    bootstrap: setup.bootstrap,
    peerStore: `kadmium-chat-peer/${setup.nick}`,
    storage: (name) => indexedDbStorage(`${name}/${setup.nick}`),
    // No STUN server on a local network; libp2p's public ones otherwise.
    ...(setup.network === 'local' ? { rtcConfiguration: { iceServers: [] } } : {})
  })
  const room = await Room.open(peer, setup.room, setup.nick)
  const stopView = showChat(room)
  const status = setInterval(() => {
    showStatus(setup.bootstrap.length === 0 ? 'no server given: messages stay on this device' : `${peer.status.connections} connection(s) · peer ${peer.peerId.toString()}`)
  }, 1000)
  document.body.dataset.state = 'ready'
  addEventListener('pagehide', () => {
    clearInterval(status)
    stopView()
    // Best effort: a page that goes away may not finish; the others then see it expire.
    void room.close().finally(async () => { await peer.close() })
  })
}

const given = readQuery()
if (given.room === undefined || given.room === '' || given.nick === undefined || given.nick === '') askForSetup(given)
else {
  join({ room: given.room, nick: given.nick, bootstrap: given.bootstrap ?? [], network: given.network }).catch((error: unknown) => {
    document.body.dataset.state = 'failed'
    showStatus(error instanceof Error ? `${error.name}: ${error.message}` : String(error))
  })
}
