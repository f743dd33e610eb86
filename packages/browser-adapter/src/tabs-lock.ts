/**
 * Web Locks for tabs that share a database: leadership (one lock, held by
 * one tab for as long as it keeps the database open, then granted to the
 * next tab waiting), and exclusive work on the shared storage (core's
 * `SharedStorage`: compactions never overlap across tabs). The browser
 * releases a tab's locks when the tab goes, however it goes.
 * @module
 */
import type { SharedStorage } from '@kadmium/core'

/**
 * Leadership among the tabs of an origin that opened one database: the
 * Web Lock `name`, held for the tab's life.
 */
export class Leadership {
  readonly #name: string
  readonly #withdrawn = new AbortController()
  /** Resolves once the lock may go: the tab stops leading (or waiting). */
  readonly #released: Promise<void>
  #release: () => void = () => {}
  #leads = false

  constructor (name: string) {
    this.#name = name
    this.#released = new Promise<void>((resolve) => { this.#release = resolve })
  }

  /** Whether this tab holds the lock. */
  get leads (): boolean {
    return this.#leads
  }

  /**
   * Takes the lock if no tab holds it, and resolves whether it did. If
   * another tab holds it, this one waits in line: `onLead` is called once
   * the lock is granted (the tab that held it closed).
   */
  async claim (onLead: () => void): Promise<boolean> {
    const { promise, resolve, reject } = Promise.withResolvers<boolean>()
    navigator.locks.request(this.#name, { ifAvailable: true }, async (lock) => {
      if (lock === null) {
        resolve(false)
        this.#wait(onLead)
        return
      }
      this.#leads = true
      resolve(true)
      await this.#released
    }).catch(reject)
    return promise
  }

  /** Lets the lock go, or leaves the line (once the tab closed what it led). */
  release (): void {
    this.#leads = false
    this.#release()
    this.#withdrawn.abort()
  }

  #wait (onLead: () => void): void {
    navigator.locks.request(this.#name, { signal: this.#withdrawn.signal }, async () => {
      this.#leads = true
      onLead()
      await this.#released
    }).catch(() => {}) // withdrawn (AbortError), or the tab is going
  }
}

/**
 * Exclusive work across the tabs of an origin: `work` runs holding the
 * Web Lock `name` (the storage's compactions, see core's `sharedStorage`).
 */
export function webLockExclusive (name: string): SharedStorage {
  return {
    exclusive: async <T>(work: () => Promise<T>): Promise<T> => navigator.locks.request(name, async () => work())
  }
}
