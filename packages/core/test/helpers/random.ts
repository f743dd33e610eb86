/** A seeded pseudo-random generator (mulberry32): a failing run replays with its seed. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The seed to use: `KADMIUM_SEED` from the environment, or a fresh one. */
export function seedFromEnv (): number {
  const given = process.env.KADMIUM_SEED
  return given !== undefined && given !== '' ? Number(given) : Math.floor(Math.random() * 2 ** 31)
}
