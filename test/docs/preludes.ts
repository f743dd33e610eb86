/**
 * Hidden setups of docs snippets that are fragments of a larger program
 * (`<!-- doctest: with peer -->`): code run before the snippet's blocks,
 * and after them, never shown to the reader. Few, and small: a snippet
 * that can say its own setup should.
 * @module
 */

/** Code around a script's blocks. */
export interface Prelude {
  readonly before: string
  readonly after: string
}

/** The preludes, by the name `with` gives. */
export const PRELUDES: Readonly<Record<string, Prelude>> = {
  /**
   * `peer`: a `nodePeer` on loopback, `createDatabase` (which closes what
   * it opened at the end), and `bobPeerId`, another user's peer id.
   */
  peer: {
    before: [
      "import { createDatabase as openDatabase } from '@kadmium/core'",
      "import { nodePeer } from '@kadmium/node'",
      "const peer = await nodePeer({ dataDir: './peer-data', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, network: 'local' })",
      "const bobPeerId = '12D3KooWCRm3EA4XBdPGVRLjpjABWyYd5nokPXmQHe4kYJNeA5hW'",
      'const opened: Array<{ close (): Promise<void> }> = []',
      'const createDatabase = (async (options: Parameters<typeof openDatabase>[0]) => {',
      '  const db = await openDatabase(options)',
      '  opened.push(db)',
      '  return db',
      '}) as typeof openDatabase'
    ].join('\n'),
    after: [
      'for (const db of opened) await db.close()',
      'await peer.close()'
    ].join('\n')
  }
}
