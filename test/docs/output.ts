/**
 * Whether a snippet printed what its `output` block says: each line of the
 * block, in order, is a line of what it printed, where `...` stands for
 * any text (ids, times). Lines in between are allowed: a live query may
 * print a result more than once.
 * @module
 */

/** The expected lines no printed line matched, starting with the first; `[]` if all did, in order. */
export function missingLines (printed: string, expected: string): string[] {
  const lines = printed.split('\n')
  const wanted = expected.split('\n').filter((line) => line.trim() !== '')
  let at = 0
  for (const [i, want] of wanted.entries()) {
    const pattern = new RegExp('^' + want.trim().split('...').map(escape).join('.*') + '$')
    while (at < lines.length && !pattern.test((lines[at] as string).trim())) at++
    if (at === lines.length) return wanted.slice(i)
    at++
  }
  return []
}

function escape (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
