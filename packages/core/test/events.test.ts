import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TypedEmitter } from '../src/events.ts'

interface Events {
  change: { id: string }
  other: number
}

test('events reach every listener until it stops; an event nobody listens to goes nowhere', () => {
  const emitter = new TypedEmitter<Events>()
  assert.equal(emitter.listens('change'), false)
  emitter.emit('change', { id: 'nobody' })
  const a: string[] = []
  const b: string[] = []
  const offA = emitter.on('change', (e) => a.push(e.id))
  const offB = emitter.on('change', (e) => b.push(e.id))
  assert.equal(emitter.listens('change'), true)
  assert.equal(emitter.listens('other'), false)
  emitter.emit('change', { id: '1' })
  offA()
  offA() // a second call changes nothing
  assert.equal(emitter.listens('change'), true, 'b still listens')
  emitter.emit('change', { id: '2' })
  offB()
  assert.equal(emitter.listens('change'), false)
  emitter.emit('change', { id: '3' })
  assert.deepEqual(a, ['1'])
  assert.deepEqual(b, ['1', '2'])
})

test('once hears one event, then stops listening', () => {
  const emitter = new TypedEmitter<Events>()
  const heard: number[] = []
  emitter.once('other', (n) => heard.push(n))
  emitter.emit('other', 1)
  emitter.emit('other', 2)
  assert.deepEqual(heard, [1])
  assert.equal(emitter.listens('other'), false)
})
