/**
 * What every conformance suite of `@kadmium/core/testing` hands out: named
 * cases, each run with the caller's own test runner.
 * @module
 */

/** One conformance case: run `fn` with your test runner under `name`. */
export interface ConformanceCase {
  readonly name: string
  readonly fn: () => Promise<void>
}
