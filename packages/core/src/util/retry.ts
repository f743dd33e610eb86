/**
 * Retrying a dial.
 * @module
 */

/**
 * Runs a dial up to 3 times with a short backoff: simultaneous dials
 * between two peers sometimes fail (EncryptionFailedError) and succeed
 * when tried again.
 */
export async function retry<T> (dial: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await dial()
    } catch (error) {
      if (attempt >= 3 || signal.aborted) throw error
      await new Promise<void>((resolve) => setTimeout(() => { resolve() }, 50 * attempt + Math.random() * 50))
    }
  }
}
