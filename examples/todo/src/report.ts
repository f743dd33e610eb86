/**
 * Where the app's failed writes go: the console (a write only fails when the
 * list closed, or the todo was deleted by someone else meanwhile).
 * @module
 */

/** A rejection handler that logs what failed. */
export function report (what: string): (error: unknown) => void {
  return (error) => { console.error(`${what} failed:`, error) }
}
