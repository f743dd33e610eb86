/**
 * A local-only app never loads the network layer: libp2p's gossipsub,
 * kad-dht, record, peer-id and key packages stay out of its memory (some
 * 20 MB of RSS) until a database with a peer opens.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const NETWORK_PACKAGES = ['@libp2p/gossipsub', '@libp2p/kad-dht', '@libp2p/record', '@libp2p/peer-id', '@libp2p/crypto', '@libp2p/utils']

/** Runs `body` in a fresh Node process and resolves the packages it loaded. */
async function packagesLoadedBy (body: string): Promise<string[]> {
  const code = `
    import { registerHooks } from 'node:module'
    const loaded = new Set()
    registerHooks({ resolve (specifier, context, next) {
      const match = /^(@[^/]+\\/[^/]+|[^./][^/]*)/.exec(specifier)
      if (match !== null && !specifier.startsWith('node:')) loaded.add(match[1])
      return next(specifier, context)
    } })
    ${body}
    console.log(JSON.stringify([...loaded]))`
  const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=development', '--input-type=module', '-e', code], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    timeout: 60_000
  })
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as string[]
}

test('a database without a peer loads no libp2p package', async () => {
  const loaded = await packagesLoadedBy(`
    const { createDatabase, memoryStorage } = await import('@kadmium/core')
    const { z } = await import('zod')
    const db = await createDatabase({ name: 'local', storage: memoryStorage() })
    const todos = db.collection('todos', { schema: z.object({ title: z.string() }) })
    const id = await todos.insert({ title: 'offline' })
    if ((await todos.get(id))?.title !== 'offline') throw new Error('the record did not round-trip')
    await db.close()`)
  assert.ok(loaded.includes('yjs') && loaded.includes('zod'), 'the hook saw the core load')
  assert.deepEqual(loaded.filter((p) => NETWORK_PACKAGES.includes(p)), [])
})
