import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KeyedLock } from '../../src/util/lock.ts'

test('runAll waits for the tasks of each of its keys, holds them all while it runs, and lets them go after', async () => {
  const lock = new KeyedLock()
  const order: string[] = []
  let releaseA!: () => void
  const a = lock.run('a', async () => {
    await new Promise<void>((resolve) => { releaseA = resolve })
    order.push('a')
  })
  const all = lock.runAll(['a', 'b', 'c'], async () => {
    order.push('all')
    return 42
  })
  const afterB = lock.run('b', async () => { order.push('b after') })
  const free = lock.run('d', async () => { order.push('d') })
  await free
  assert.deepEqual(order, ['d'], 'a key it does not hold runs at once; it waits for "a"')
  assert.ok(lock.isHeld('b') && lock.isHeld('c'))
  releaseA()
  await a
  assert.equal(await all, 42)
  await afterB
  assert.deepEqual(order, ['d', 'a', 'all', 'b after'])
  await lock.idle()
  assert.equal(lock.size, 0)
})

test('runAll runs even when a task before it failed, and passes its own failure on', async () => {
  const lock = new KeyedLock()
  const failed = lock.run('x', async () => { throw new Error('before') })
  await assert.rejects(failed)
  await assert.rejects(lock.runAll(['x', 'y'], async () => { throw new Error('mine') }), /mine/)
  assert.equal(await lock.runAll(['x', 'y'], async () => 'ok'), 'ok')
  await lock.idle()
  assert.equal(lock.size, 0)
})
