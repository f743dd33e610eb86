import { createHash } from 'node:crypto'

/** Longest readable part of a database directory name. */
const SLUG_LENGTH = 32

/**
 * The directory name of a database, safe on every filesystem: a readable
 * slug of the name (lower-case letters, digits and `-`), then the first 128
 * bits of the SHA-256 of the exact name, in hex. Two names never share a
 * directory, even on case-insensitive filesystems, and names such as `..`,
 * `a/b` or `CON` cannot escape or clash.
 *
 * @example
 * ```ts
 * databaseDirectoryName('Acme Todos') // 'acme-todos-' + 32 hex digits
 * ```
 */
export function databaseDirectoryName (name: string): string {
  const slug = name.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, SLUG_LENGTH)
  const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 32)
  return slug.length === 0 ? hash : `${slug}-${hash}`
}
