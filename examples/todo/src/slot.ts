/**
 * Which peer this window is. Windows of one browser share its IndexedDB, so
 * each open window takes a slot (0, 1, 2...: the first one free, held with a
 * Web Lock while the page lives) and is a peer of its own: its own identity
 * and its own copy of the lists. Two windows side by side then sync as two
 * devices do. Where there are no Web Locks (a page served over plain http to
 * another device), the window takes slot 0.
 * @module
 */

/** The Web Locks API, where the page has it (secure contexts). */
interface Locks {
  request (name: string, options: { ifAvailable: boolean }, callback: (lock: unknown) => Promise<void>): Promise<void>
}

/** Resolves this window's slot, held until the page goes away. */
export async function claimSlot (): Promise<number> {
  const locks = (globalThis.navigator as { locks?: Locks } | undefined)?.locks
  if (locks === undefined) return 0
  for (let slot = 0; ; slot++) {
    const held = await new Promise<boolean>((resolve, reject) => {
      locks.request(`kadmium-todo/window-${slot}`, { ifAvailable: true }, async (lock) => {
        resolve(lock !== null)
        if (lock !== null) await new Promise<never>(() => {})
      }).catch(reject)
    })
    if (held) return slot
  }
}

/** The name of the IndexedDB database `name` for the window in `slot` (slot 0: the name itself). */
export function slotted (name: string, slot: number): string {
  return slot === 0 ? name : `${name}~${slot}`
}
