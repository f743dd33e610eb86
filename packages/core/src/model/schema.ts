import type { StandardSchemaV1 } from '@standard-schema/spec'
import { ValidationError, type ValidationIssue } from '../errors.ts'
import { isPlainObject } from './values.ts'

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

/**
 * The fields a schema's output can have, when the schema tells them: it
 * implements Standard JSON Schema (`~standard.jsonSchema`: zod 4.2+,
 * arktype, ...) and its output is an object that allows no other keys
 * (`additionalProperties: false`, as zod's stripping `z.object` does), or
 * a union of such objects. `undefined` when they cannot be known: no JSON
 * Schema (valibot without an adapter, hand-written schemas), one that
 * cannot be made (zod transforms), or an object open to other keys
 * (arktype's default, zod's `passthrough`/`catchall`, records). Queries on
 * a collection whose fields are known refuse other fields.
 */
export function knownFields (schema: StandardSchemaV1): ReadonlySet<string> | undefined {
  const converter = (schema['~standard'] as { jsonSchema?: { output?: unknown } }).jsonSchema
  if (typeof converter !== 'object' || converter === null || typeof converter.output !== 'function') return undefined
  let json: unknown
  try {
    json = (converter.output as (options: { target: string }) => unknown)({ target: 'draft-2020-12' })
  } catch {
    return undefined
  }
  const fields = new Set<string>()
  return closedObjectKeys(json, fields) ? fields : undefined
}

/** Adds the keys of a JSON Schema for closed objects to `into`; false if it is anything else. */
function closedObjectKeys (json: unknown, into: Set<string>): boolean {
  if (!isPlainObject(json)) return false
  for (const key of ['$ref', '$dynamicRef', 'allOf', 'not', 'if', 'patternProperties', 'dependentSchemas', 'propertyNames']) {
    if (json[key] !== undefined) return false
  }
  const branches = json.anyOf ?? json.oneOf
  if (branches !== undefined) {
    if (json.properties !== undefined || (json.anyOf !== undefined && json.oneOf !== undefined)) return false
    return Array.isArray(branches) && branches.length > 0 && branches.every((branch) => closedObjectKeys(branch, into))
  }
  if (json.type !== 'object' || json.additionalProperties !== false || !isPlainObject(json.properties)) return false
  for (const key of Object.keys(json.properties)) into.add(key)
  return true
}
