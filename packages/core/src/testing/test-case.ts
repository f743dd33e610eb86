/**
 * What every conformance suite of `@kadmium/core/testing` hands out: named
 * cases, each run with the caller's own test runner.
 * @module
 */

/** One conformance case: run `fn` with your test runner under `name`. */
export interface ConformanceCase {
  /** What the case checks, as a test's name. */
  readonly name: string
  /** The case: resolves if the implementation passes, rejects with what failed. */
  readonly fn: () => Promise<void>
}
