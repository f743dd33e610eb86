/**
 * The errors of `shareAcrossTabs`: told apart by `name`, never by their
 * message.
 * @module
 */

/**
 * The page lacks what tabs share a database through: `BroadcastChannel`,
 * or Web Locks (`navigator.locks`, which only secure contexts have:
 * `https:` pages, and `http://localhost` or `127.0.0.1`).
 */
export class TabsUnsupportedError extends Error {
  /** `'TabsUnsupportedError'`: what to tell this error by. */
  override name = 'TabsUnsupportedError'
}

/**
 * The tab that leads could not start its peer (the `peer` option threw, or
 * replication did not start): its `cause` says why. The database stays on
 * this device; the tabs still share it.
 */
export class LeaderPeerError extends Error {
  /** `'LeaderPeerError'`: what to tell this error by. */
  override name = 'LeaderPeerError'
}

/**
 * An update another tab sent could not be applied here (its `cause` says
 * why), or a message on the database's channel was not one of Kadmium's.
 * It stays in storage, where the other tab stored it: this tab shows it
 * once it reads the record again.
 */
export class TabMessageError extends Error {
  /** `'TabMessageError'`: what to tell this error by. */
  override name = 'TabMessageError'
}
