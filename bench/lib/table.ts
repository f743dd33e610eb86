/**
 * Plain-text tables for the terminal.
 * @module
 */

/** Column alignment. */
export type Align = 'left' | 'right'

/** Renders rows of cells under headers, columns padded to their widest cell. */
export function formatTable (headers: readonly string[], rows: ReadonlyArray<readonly string[]>, align: readonly Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells
    .map((cell, i) => (align[i] ?? 'left') === 'right' ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))
    .join('  ')
    .trimEnd()
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}
