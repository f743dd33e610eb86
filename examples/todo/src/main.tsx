/**
 * The todo app's entry: finds the sync server (`/api/sync`), starts this
 * window's peer, opens the list named in the URL (`#<database address>`)
 * or creates a new one and puts its address there, asks the server to
 * keep it (`/api/pin`), and renders it.
 * @module
 */
import { StrictMode, type JSX } from 'react'
import { createRoot } from 'react-dom/client'
import { createDatabase, newId, type Database } from '@kadmium/core'
import { browserPeer, indexedDbStorage, type BrowserPeer } from '@kadmium/browser'
import { App } from './App.tsx'
import { todosOf } from './schema.ts'
import { claimSlot, slotted } from './slot.ts'

/** How long to wait for the app's server to name the sync server (ms). */
const SYNC_CONFIG_TIMEOUT = 5_000
/**
 * How often a window catches up with the list's peers (ms). Kadmium does it on connect and every 30 s;
 * what a window wrote offline reaches the sync server when the window is back, but the server passes
 * on live only what is written through it: the other windows get it at their next catch-up. A demo
 * wants that within seconds, and a catch-up between replicas in step is one round trip.
 */
const CATCH_UP_EVERY = 5_000

/** The sync server's addresses for this page; none if the page's server does not say (the list then stays on this device). */
async function syncAddresses (): Promise<string[]> {
  try {
    const response = await fetch('/api/sync', { signal: AbortSignal.timeout(SYNC_CONFIG_TIMEOUT) })
    if (!response.ok) return []
    const { bootstrap } = await response.json() as { bootstrap?: unknown }
    return Array.isArray(bootstrap) ? bootstrap.filter((a) => typeof a === 'string') : []
  } catch {
    return []
  }
}

/** Asks the app's server to keep the list on the sync server, so that it is there while every window is closed. */
async function pin (address: string): Promise<void> {
  const response = await fetch('/api/pin', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address }) })
  if (!response.ok && response.status !== 404) console.warn('the sync server did not pin the list:', await response.text())
}

/** The list's address in the page's URL (`#<address>`), if any. */
function addressInUrl (): string | undefined {
  const address = decodeURIComponent(location.hash.slice(1))
  return address === '' ? undefined : address
}

/** Opens the list of the URL, or a new one. */
async function open (): Promise<{ peer: BrowserPeer, db: Database }> {
  const [slot, bootstrap] = await Promise.all([claimSlot(), syncAddresses()])
  const peer = await browserPeer({
    bootstrap,
    // The sync server is on this machine or the LAN: private addresses and plain ws are fine.
    network: 'local',
    // No STUN server needed between windows and devices of one network.
    rtcConfiguration: { iceServers: [] },
    peerStore: slotted('kadmium-peer', slot),
    storage: (name) => indexedDbStorage(slotted(name, slot))
  })
  try {
    const address = addressInUrl()
    let db: Database
    if (address !== undefined) {
      db = await createDatabase({ address, peer })
    } else {
      db = await createDatabase({ name: `todo-${newId().toLowerCase()}`, peer })
      history.replaceState(null, '', `#${db.address}`)
    }
    pin(db.address).catch((error: unknown) => { console.warn('could not ask the server to pin the list:', error) })
    return { peer, db }
  } catch (error) {
    await peer.close()
    throw error
  }
}

function Message ({ title, detail, retry }: { title: string, detail?: string, retry?: boolean }): JSX.Element {
  return (
    <main className='app message'>
      <h1>{title}</h1>
      {detail !== undefined && <p>{detail}</p>}
      {retry === true && <p><button type='button' onClick={() => { location.reload() }}>Try again</button> <a href='/'>New list</a></p>}
    </main>
  )
}

/** Why a list could not be opened, in words. */
function explain (error: unknown): string {
  const name = error instanceof Error ? error.name : ''
  if (name === 'PeersUnreachableError') return 'No peer that has this list could be reached: is the sync server running, and this device online?'
  if (name === 'DatabaseNotFoundError') return 'No peer has this list. Check the link.'
  if (name === 'InvalidArgumentError') return 'The link does not name a list.'
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

/** Keeps the opened list in step, and renders it. */
function show (peer: BrowserPeer, db: Database): void {
  // The browser knows before the sockets do (they can take minutes to time out): drop the connections
  // now (a graceful close would wait on the network), so that the status says offline; the peer dials
  // the sync server again once the browser is online.
  addEventListener('offline', () => {
    for (const connection of peer.libp2p.getConnections()) connection.abort(new Error('the browser is offline'))
  })
  // And one that was being set up when the browser went offline does not stay.
  peer.libp2p.addEventListener('connection:open', (event) => {
    if (!navigator.onLine) event.detail.abort(new Error('the browser is offline'))
  })
  setInterval(() => { if (db.status.online) db.sync().catch(() => {}) }, CATCH_UP_EVERY)
  root.render(<StrictMode><App db={db} todos={todosOf(db)} /></StrictMode>)
}

const root = createRoot(document.getElementById('root') as HTMLElement)
// Another list pasted in the address bar: open it.
addEventListener('hashchange', () => { location.reload() })
if (isSecureContext) {
  root.render(<Message title='Opening the list…' />)
  open().then(({ peer, db }) => { show(peer, db) }, (error: unknown) => {
    console.error(error)
    root.render(<Message title='Could not open this list' detail={explain(error)} retry />)
  })
} else {
  // libp2p needs WebCrypto, which browsers give only to pages served over https or from this machine.
  root.render(<Message title='This page needs https' detail='Opened from another device over plain http, the browser withholds the cryptography the app needs. Start the app with: npm start -- --https' />)
}
