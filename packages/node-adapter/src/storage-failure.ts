/**
 * The errors LevelDB storage rejects with when the file system fails it:
 * {@link StorageFullError} when there is no room (the disk or the quota is
 * full, or a file reached the process's size limit), {@link StorageError}
 * otherwise. `cause` is the file system's or LevelDB's error.
 * @module
 */
import { StorageError, StorageFullError } from '@kadmium/core'

/** Node's codes for "no room". */
const NO_ROOM_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG'])
/** LevelDB's words for the same (the C library's `strerror`, or Windows' message). */
const NO_ROOM_TEXT = /No space left on device|File too large|Dis[ck] quota exceeded|not enough space on the disk/i

/** Whether `cause` says the file system had no room. */
export function isNoRoom (cause: unknown): boolean {
  if (!(cause instanceof Error)) return false
  const code = (cause as { code?: unknown }).code
  if (typeof code === 'string' && NO_ROOM_CODES.has(code)) return true
  return NO_ROOM_TEXT.test(cause.message) || isNoRoom(cause.cause)
}

/** The error to reject with for a failure of the file system: `message`, then why (`cause`'s message, and its cause's). */
export function storageFailure (message: string, cause: unknown): StorageError {
  if (cause instanceof StorageError) return cause
  const text = `${message}: ${reason(cause)}`
  return isNoRoom(cause) ? new StorageFullError(text, { cause }) : new StorageError(text, { cause })
}

/** The message of an error, and of its cause (LevelDB's own words are there). */
export function reason (error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message
}
