/**
 * Time budgets for the large sizes of a scenario: a size whose
 * measurement overruns its budget is abandoned (and reported as not
 * measured) instead of holding up the run for hours. The abandoned work
 * goes on in the background until the scenario's process exits (it
 * exits 10 s after its result at the latest: `child.ts`), so nothing it
 * uses (a database, its temp dir) may be closed or removed after an
 * overrun: the process's exit hook removes the temp dirs.
 * @module
 */
import { fmt } from './report.ts'

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

/** The budget of one size of a scenario: generous for a healthy build, finite for a broken one. */
export function sizeBudgetMs (quick: boolean, records: number): number {
  if (quick) return 90_000
  return records >= 100_000 ? 600_000 : 300_000
}
