import type { StandardSchemaV1 } from '@standard-schema/spec'
import { ValidationError, type ValidationIssue } from '../errors.ts'

export type { StandardSchemaV1 }

/** The value type a schema produces: a collection's record type. */
export type InferOutput<S extends StandardSchemaV1> = StandardSchemaV1.InferOutput<S>
/** The value type a schema accepts: what `insert` takes. */
export type InferInput<S extends StandardSchemaV1> = StandardSchemaV1.InferInput<S>

/** What {@link check} says of a value: the schema's output, or what fails. */
export type CheckResult =
  | { readonly value: unknown, readonly issues?: undefined }
  | { readonly issues: readonly ValidationIssue[] }

/**
 * Checks `value` against a Standard Schema without throwing: the schema's
 * output, or every failing field. Synchronous when the schema is.
 */
export function check (schema: StandardSchemaV1, value: unknown): CheckResult | Promise<CheckResult> {
  const result = schema['~standard'].validate(value)
  return result instanceof Promise ? result.then(toResult) : toResult(result)
}

/**
 * Checks `value` against a Standard Schema (zod, valibot, arktype, ...) and
 * returns the schema's output. Throws {@link ValidationError} listing every
 * failing field.
 */
export async function validate<S extends StandardSchemaV1> (collection: string, schema: S, value: unknown): Promise<InferOutput<S>> {
  let result = check(schema, value)
  if (result instanceof Promise) result = await result
  if (result.issues !== undefined) throw new ValidationError(collection, result.issues)
  return result.value
}

function toResult (result: StandardSchemaV1.Result<unknown>): CheckResult {
  return result.issues !== undefined ? { issues: result.issues.map(toIssue) } : { value: result.value }
}

function toIssue (issue: StandardSchemaV1.Issue): ValidationIssue {
  const path = (issue.path ?? [])
    .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
    .join('.')
  return { path, message: issue.message }
}

/** Tells whether `value` is a Standard Schema. */
export function isStandardSchema (value: unknown): value is StandardSchemaV1 {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false
  const std = (value as { '~standard'?: { version?: unknown, validate?: unknown } })['~standard']
  return typeof std === 'object' && std !== null && std.version === 1 && typeof std.validate === 'function'
}
