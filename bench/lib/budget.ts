/**
 * Time budgets for the large sizes of a scenario: a size whose
 * measurement overruns its budget is abandoned (and reported as not
 * measured) instead of holding up the run for hours.
 *
 * Two ways: {@link runSize} runs a size in a child process and kills it
 * at the budget (works even when the work blocks the event loop for
 * minutes, as one synchronous Yjs call can); {@link withinBudget} races a
 * promise in this process (only for work that yields). Work abandoned by
 * `withinBudget` goes on in the background until the scenario's process
 * exits (10 s after its result at the latest: `child.ts`), so nothing it
 * uses (a database, its temp dir) may be closed or removed after an
 * overrun: the process's exit hook removes the temp dirs.
 * @module
 */
import { ChildTimeout, runIsolated } from './isolate.ts'
import { fmt, type ResultRow } from './report.ts'

/** A measurement that did not finish within its budget. */
export class OverBudget extends Error {
  override readonly name = 'OverBudget'
}

/** Resolves what `fn` resolves, or rejects with {@link OverBudget} after `ms`. */
export async function withinBudget<T> (what: string, ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const overrun = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new OverBudget(`${what}: not finished within the budget of ${fmt(ms / 1000, 0)} s; abandoned`)) }, ms)
  })
  try {
    return await Promise.race([fn(), overrun])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Quick runs (`--quick`, CI): the longest a scenario's process may run
 * before `bench/run.ts` kills it and reports the scenario failed. A quick
 * scenario takes 2–10 s on an idle 2-core machine; this leaves room for a
 * loaded one while bounding the whole quick run.
 */
export const QUICK_SCENARIO_LIMIT_MS = 75_000

/**
 * Quick runs: the watchdog inside a scenario's process, shorter than
 * {@link QUICK_SCENARIO_LIMIT_MS} so that a hung scenario exits saying so
 * before it is killed.
 */
export const QUICK_WATCHDOG_MS = 60_000

/** The budget of one size of a scenario: generous for a healthy build, finite for a broken one. */
export function sizeBudgetMs (quick: boolean, records: number): number {
  if (quick) return QUICK_WATCHDOG_MS
  return records >= 100_000 ? 600_000 : 300_000
}

/** Progress lines of a size run in a child process: the format `runScenario` uses. */
export function stderrLog (line: string): void {
  process.stderr.write(`  · ${line}\n`)
}

/**
 * Runs one size of a scenario: `exportName(args)` of `moduleUrl`, which
 * resolves the size's rows. Quick runs call it in this process; full runs
 * in a child process that is killed once it overruns the size's budget.
 * Resolves the rows, or `undefined` if the size was abandoned (its
 * message is logged and added to `abandoned`).
 */
export async function runSize<A extends { readonly n: number }> (moduleUrl: string, exportName: string, args: A, quick: boolean, what: string, abandoned: string[], log: (line: string) => void): Promise<ResultRow[] | undefined> {
  if (quick) {
    const mod = await import(moduleUrl) as Record<string, (args: A) => Promise<ResultRow[]>>
    const fn = mod[exportName]
    if (fn === undefined) throw new Error(`${moduleUrl} has no export "${exportName}"`)
    return fn(args)
  }
  const budget = sizeBudgetMs(quick, args.n)
  try {
    return await runIsolated<ResultRow[]>(moduleUrl, exportName, args, { timeoutMs: budget })
  } catch (error) {
    if (!(error instanceof ChildTimeout)) throw error
    const message = `${what} ${fmt(args.n)}: not finished within the budget of ${fmt(budget / 1000, 0)} s; abandoned`
    abandoned.push(message)
    log(message)
    return undefined
  }
}
