/**
 * The records of the `browser` scenario's pages: the same todos as every
 * other scenario's (`bench/lib/todo-records.ts`), and a bounded wait.
 * @module
 */
export { BASELINE_PREFIX, BASELINE_ROOT, COLLECTION, encodeRecord, todo, todos, todoSchema, type Todo, type Todos } from '../lib/todo-records.ts'

/** Resolves once `check` holds, polling every `everyMs`; rejects naming `what` after `boundMs`. */
export async function waitUntil (what: string, check: () => boolean | Promise<boolean>, boundMs: number, everyMs = 5): Promise<void> {
  const deadline = performance.now() + boundMs
  while (!await check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${boundMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
