/**
 * Records checked against their collection's schema on the way to reads:
 * a record a peer (or an older schema) left in a shape the schema refuses
 * stays in storage and keeps merging, but reads never hand it out as a `T`.
 * @module
 */
import { UnsupportedValueError, type ValidationIssue } from '../errors.ts'
import type { Row } from './query.ts'
import { makeRow } from './row.ts'
import type { CheckResult } from '../model/schema.ts'
import { deepEqual, isPlainObject, toStoredObject, type StoredObject } from '../model/values.ts'

/** A record's row as its collection's schema sees it. */
export interface CheckedRow {
  /**
   * When the record passes: the row reads return, the schema's output
   * (defaults filled in, unknown keys stripped, as the schema does) with
   * `id`. When it fails: the stored fields as they are.
   */
  readonly row: Row
  /** Every failing field; absent when the record passes. */
  readonly issues?: readonly ValidationIssue[]
}

/** Checks a record's stored fields against the collection's schema. */
export type FieldsCheck = (fields: StoredObject) => CheckResult | Promise<CheckResult>

/** Told of a record that a remote change left failing the schema. */
export type InvalidListener = (id: string, issues: readonly ValidationIssue[]) => void

/**
 * The schema check of one collection's stored rows. Verdicts are
 * remembered per row object (rows are frozen; a change makes a new one),
 * so a row is checked at most once however often it is read.
 */
export class RowChecks {
  #check: FieldsCheck | undefined
  #onInvalid: InvalidListener | undefined
  readonly #verdicts = new WeakMap<Row, CheckedRow>()

  /** Checks rows with `check` from now on; `onInvalid` hears of remote changes that leave a record failing it. */
  use (check: FieldsCheck, onInvalid: InvalidListener): void {
    this.#check = check
    this.#onInvalid = onInvalid
  }

  /**
   * The verdict on a stored row: synchronous when the schema is, or when
   * the row was checked before. Without a schema (a collection not opened
   * here) every row passes as it is.
   */
  of (row: Row): CheckedRow | Promise<CheckedRow> {
    const known = this.#verdicts.get(row)
    if (known !== undefined) return known
    if (this.#check === undefined) return { row }
    const { id: _, ...fields } = row
    const result = this.#check(fields as StoredObject)
    return result instanceof Promise ? result.then((r) => this.#remember(row, r)) : this.#remember(row, result)
  }

  /** A row that a validated local write stored: it passes as it is. */
  trust (row: Row): CheckedRow {
    const verdict: CheckedRow = { row }
    this.#verdicts.set(row, verdict)
    return verdict
  }

  /** Reports a remote change that left record `id` failing the schema. */
  rejected (id: string, issues: readonly ValidationIssue[]): void {
    this.#onInvalid?.(id, issues)
  }

  #remember (row: Row, result: CheckResult): CheckedRow {
    const verdict = verdictOf(row, result)
    this.#verdicts.set(row, verdict)
    return verdict
  }
}

function verdictOf (row: Row, result: CheckResult): CheckedRow {
  if (result.issues !== undefined) return { row, issues: result.issues }
  // The usual case: the schema's output is the stored value.
  if (sameFields(row, result.value)) return { row }
  let fields: StoredObject
  try {
    fields = toStoredObject(result.value)
  } catch (error) {
    if (!(error instanceof UnsupportedValueError)) throw error
    return { row, issues: [{ path: error.path, message: error.message }] }
  }
  return { row: makeRow(row.id, fields) }
}

/** Whether a schema's output holds exactly the fields of `row` (its `id` aside). */
function sameFields (row: Row, output: unknown): boolean {
  if (!isPlainObject(output)) return false
  const keys = Object.keys(output)
  if (keys.length !== Object.keys(row).length - 1) return false
  for (const key of keys) {
    if (key === 'id' || !Object.hasOwn(row, key) || !deepEqual(row[key], output[key])) return false
  }
  return true
}
