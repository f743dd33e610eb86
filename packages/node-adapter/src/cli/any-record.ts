/**
 * The schema the shell commands and the server open collections with:
 * they do not know an app's schemas, so any JSON object is a record.
 * @module
 */
import type { StandardSchemaV1 } from '@kadmium/core'

/** A record is a JSON object; nothing more is checked. */
export const anyRecord: StandardSchemaV1<Record<string, unknown>> = {
  '~standard': {
    version: 1,
    vendor: 'kadmium-cli',
    validate: (value) => typeof value === 'object' && value !== null && !Array.isArray(value)
      ? { value: value as Record<string, unknown> }
      : { issues: [{ message: 'a record is a JSON object' }] }
  }
}
