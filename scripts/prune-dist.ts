/**
 * Removes the compiled files in a package's `dist/src` whose TypeScript
 * source is gone (a moved or deleted module): `tsc -b` writes outputs but
 * never deletes them, and `npm pack` would ship the leftovers. Run by each
 * package's `prepack` after `tsc -b`, in the package's directory:
 *
 *   node ../../scripts/prune-dist.ts
 *
 * Only leftovers go, so a build in use by a test elsewhere stays whole.
 * @module
 */
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'

/** What `tsc` writes for one `x.ts`. */
const OUTPUTS = ['.d.ts.map', '.d.ts', '.js.map', '.js']

/** The source a compiled file came from, or `undefined` for a file tsc does not write. */
function sourceOf (file: string): string | undefined {
  const suffix = OUTPUTS.find((s) => file.endsWith(s))
  return suffix === undefined ? undefined : file.slice(0, -suffix.length) + '.ts'
}

/** Removes the outputs under `out` with no source under `src`, then empty folders; returns what it removed. */
function pruneDist (out: string, src: string): string[] {
  const removed: string[] = []
  for (const entry of readdirSync(out, { withFileTypes: true })) {
    const path = join(out, entry.name)
    if (entry.isDirectory()) {
      removed.push(...pruneDist(path, join(src, entry.name)))
      if (readdirSync(path).length === 0) rmdirSync(path)
      continue
    }
    const source = sourceOf(entry.name)
    if (source !== undefined && !existsSync(join(src, source))) {
      rmSync(path)
      removed.push(path)
    }
  }
  return removed
}

const out = join('dist', 'src')
if (existsSync(out)) {
  for (const file of pruneDist(out, 'src')) process.stderr.write(`prune-dist: removed ${relative('.', file)} (its source is gone)\n`)
} else {
  process.stderr.write(`prune-dist: no ${out} in ${process.cwd()}: run tsc -b first\n`)
  process.exitCode = 1
}
