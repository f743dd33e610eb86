/**
 * The list's connection: online or offline, how many peers replicate it
 * with this window, and how many changes are not yet synced.
 * @module
 */
import type { JSX } from 'react'
import type { Database } from '@kadmium/core'
import { useStatus } from '@kadmium/react'

/** Props of {@link StatusBar}. */
export interface StatusBarProps {
  readonly db: Database
}

/** The status line of the list, updated live. */
export function StatusBar ({ db }: StatusBarProps): JSX.Element {
  const { online, peers, pendingWrites, dht } = useStatus(db)
  // Writes under way, and writes made offline (parked until a peer connects): not yet synced.
  const pending = pendingWrites + (dht?.parked ?? 0)
  return (
    <div className='status' role='status' data-online={online} data-peers={peers} data-pending={pending}>
      <span className='connection'><span className='dot' aria-hidden='true' />{online ? 'Online' : 'Offline'}</span>
      <span className='peers'>{peers} {peers === 1 ? 'peer' : 'peers'}</span>
      <span className='pending'>{pending === 0 ? 'All changes synced' : `${pending} ${pending === 1 ? 'change' : 'changes'} pending`}</span>
    </div>
  )
}
