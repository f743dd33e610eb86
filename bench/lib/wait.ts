/**
 * Bounded waiting, for scenarios that wait on peers: every wait has a
 * deadline, so a hung peer fails the scenario instead of the run.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises'

/** Rejects if `promise` does not settle within `ms` (the promise itself goes on). */
export async function bounded<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`timed out after ${ms} ms: ${what}`)) }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves once `check` holds, polling every `everyMs`; rejects naming `what` after `timeoutMs`. */
export async function until (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!await check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

/**
 * Exits the process if a scenario overruns `ms` by far (a hung socket or
 * stop): the harness then reports the scenario as failed instead of
 * waiting forever. Returns the function that disarms it.
 */
export function guard (ms: number, what: string): () => void {
  const timer = setTimeout(() => {
    process.stderr.write(`${what}: still running after ${Math.round(ms / 1000)} s; exiting\n`)
    process.exit(3)
  }, ms)
  timer.unref()
  return () => { clearTimeout(timer) }
}

export { sleep }
