/**
 * A page that checks the browser fixture itself: a case that passes, one
 * that fails, one that never settles, and an action.
 * @module
 */
import { assertEqual } from '@kadmium/core/testing'
import { exposePage } from '../fixtures/browser/expose.ts'

/** Throws a `TypeError` caused by a `RangeError`. */
function failWithCause (): never {
  throw new TypeError('outer failure', { cause: new RangeError('inner cause') })
}

/** What the Node side may ask of this page. */
export const actions = {
  /** Its arguments back, with the page's user agent. */
  echo: async (text: string, n: number): Promise<{ text: string, n: number, agent: string }> => ({ text, n, agent: navigator.userAgent }),
  /** Rejects with a cause. */
  fail: async (): Promise<void> => { failWithCause() }
}

exposePage({
  cases: {
    check: [
      { name: 'passes', fn: async () => { assertEqual(1 + 1, 2, 'sum') } },
      { name: 'fails', fn: async () => { assertEqual(1 + 1, 3, 'a sum that is wrong on purpose') } },
      { name: 'never settles', fn: async () => { await new Promise(() => {}) } }
    ]
  },
  actions
})
