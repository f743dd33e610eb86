import type { CheckedRow } from './row-check.ts'
import { RowView } from './row-view.ts'

/**
 * A {@link RowView} filled on first use by `load` (a scan of the stored
 * rows, each checked against the schema); a change that arrives while it
 * loads wins over what the load read for that row.
 */
export class LazyRowView {
  readonly #load: (skip: (id: string) => boolean) => AsyncIterable<CheckedRow>
  #view: RowView | undefined
  #ready: Promise<RowView> | undefined
  /** Rows changed while loading. */
  #touched: Set<string> | undefined

  constructor (load: (skip: (id: string) => boolean) => AsyncIterable<CheckedRow>) {
    this.#load = load
  }

  /** The view, loaded. */
  get (): Promise<RowView> {
    this.#ready ??= (async () => {
      const view = new RowView()
      const touched = new Set<string>()
      this.#view = view
      this.#touched = touched
      try {
        for await (const checked of this.#load((id) => touched.has(id))) {
          if (!touched.has(checked.row.id)) view.set(checked.row.id, checked)
        }
      } catch (error) {
        this.#view = undefined
        this.#ready = undefined
        throw error
      } finally {
        this.#touched = undefined
      }
      return view
    })()
    return this.#ready
  }

  /** A record's verdict from the loaded view, without waiting; `undefined` if not loaded (or loading). */
  peek (id: string): CheckedRow | undefined {
    return this.#touched === undefined ? this.#view?.checked(id) : undefined
  }

  /** Takes in a change of a row (`undefined`: gone), if the view is loaded or loading. */
  set (id: string, checked: CheckedRow | undefined): void {
    if (this.#view === undefined) return
    this.#view.set(id, checked)
    this.#touched?.add(id)
  }
}
