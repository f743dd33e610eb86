import type { StandardSchemaV1 } from '@standard-schema/spec'
import { ValidationError, type ValidationIssue } from './errors.ts'

export type { StandardSchemaV1 }

/** The value type a schema produces: a collection's record type. */
export type InferOutput<S extends StandardSchemaV1> = StandardSchemaV1.InferOutput<S>
/** The value type a schema accepts: what `insert` takes. */
export type InferInput<S extends StandardSchemaV1> = StandardSchemaV1.InferInput<S>

/**
 * Checks `value` against a Standard Schema (zod, valibot, arktype, ...) and
 * returns the schema's output. Throws {@link ValidationError} listing every
 * failing field.
 */
export async function validate<S extends StandardSchemaV1> (collection: string, schema: S, value: unknown): Promise<InferOutput<S>> {
  let result = schema['~standard'].validate(value)
  if (result instanceof Promise) result = await result
  if (result.issues !== undefined) {
    throw new ValidationError(collection, result.issues.map(toIssue))
  }
  return result.value
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
