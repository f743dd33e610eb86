import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { PutQueue, type PutQueueOptions } from '../../src/dht/put-queue.ts'
import { PutSlots } from '../../src/dht/put-slots.ts'
import { waitFor } from '../helpers/wait.ts'

const OPTIONS: PutQueueOptions = { concurrency: 4, retryDelay: 10, maxRetryDelay: 1000, maxAttempts: 4, republishInterval: 24 * 60 * 60 * 1000 }

interface Failure { key: string, attempt: number, retryIn: number | undefined }

/** A queue whose jobs are numbers, recording every run and failure. */
function recordingQueue (options: Partial<PutQueueOptions> = {}, run: (key: string, job: number) => Promise<void> = async () => {}) {
  const runs: Array<[string, number]> = []
  const failures: Failure[] = []
  const queue = new PutQueue<number>({ ...OPTIONS, ...options }, {
    run: async (key, job) => {
      runs.push([key, job])
      await run(key, job)
    },
    failed: (key, _job, _error, attempt, retryIn) => { failures.push({ key, attempt, retryIn }) }
  })
  return { queue, runs, failures }
}

function deferred (): { promise: Promise<void>, resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => { resolve = r })
  return { promise, resolve }
}

describe('PutQueue', { timeout: 10_000 }, () => {
  test('queues that share slots (one node\'s databases) run that many jobs at once in all, and every job runs; a queue stopped while waiting leaves its turn to the others', async () => {
    const slots = new PutSlots(3)
    let running = 0
    let most = 0
    const gates: Array<() => void> = []
    const run = async (): Promise<void> => {
      running++
      most = Math.max(most, running)
      await new Promise<void>((resolve) => gates.push(resolve))
      running--
    }
    const queues = [0, 1, 2, 3].map(() => recordingQueue({ slots }, run))
    try {
      for (const [q, { queue }] of queues.entries()) for (let i = 0; i < 5; i++) queue.schedule(`k${i}`, q)
      await waitFor(() => running === 3, 'three jobs running', 8000)
      // The last queue stops while its jobs wait for a slot: the others get every slot.
      const stopped = queues[3]?.queue.stop()
      while (queues.slice(0, 3).some(({ runs }) => runs.length < 5)) {
        await waitFor(() => gates.length > 0, 'a job running', 8000)
        gates.shift()?.()
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
      for (const resolve of gates.splice(0)) resolve()
      await stopped
      for (const { queue } of queues.slice(0, 3)) await queue.flush()
      assert.equal(most, 3, 'never more than the shared slots at once')
      assert.deepEqual(queues.slice(0, 3).map(({ runs }) => runs.length), [5, 5, 5], 'every job of the running queues ran')
      assert.ok(slots.take() && slots.take() && slots.take(), 'every slot given back')
    } finally {
      // Also when it fails: a queue left running keeps its timers, and the file would never end.
      for (const resolve of gates.splice(0)) resolve()
      for (const { queue } of queues) await queue.stop()
    }
  })

  test('ten schedules of one key in a tick run once, with the latest job', async () => {
    const { queue, runs } = recordingQueue()
    for (let i = 1; i <= 10; i++) queue.schedule('a', i)
    assert.equal(queue.pending, 1)
    await queue.flush()
    assert.deepEqual(runs, [['a', 10]])
    await queue.stop()
  })

  test('a key scheduled while it runs runs once more, with the latest job only', async () => {
    const gate = deferred()
    const { queue, runs } = recordingQueue({}, async (_key, job) => { if (job === 1) await gate.promise })
    queue.schedule('a', 1)
    await waitFor(() => runs.length === 1, 'the first run')
    for (let i = 2; i <= 10; i++) queue.schedule('a', i)
    gate.resolve()
    await queue.flush()
    assert.deepEqual(runs, [['a', 1], ['a', 10]])
    await queue.stop()
  })

  test('at most `concurrency` jobs run at once', async () => {
    const gate = deferred()
    let running = 0
    let most = 0
    const { queue, runs } = recordingQueue({ concurrency: 3 }, async () => {
      running++
      most = Math.max(most, running)
      await gate.promise
      running--
    })
    for (let i = 0; i < 10; i++) queue.schedule(`k${i}`, i)
    await waitFor(() => runs.length === 3, 'three jobs to start')
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(runs.length, 3, 'a fourth job started while three ran')
    gate.resolve()
    await queue.flush()
    assert.equal(runs.length, 10)
    assert.equal(most, 3)
    await queue.stop()
  })

  test('a failing job is retried with doubling delays, then succeeds', async () => {
    let calls = 0
    const { queue, failures } = recordingQueue({}, async () => {
      if (++calls <= 2) throw new Error('no peers')
    })
    const started = Date.now()
    queue.schedule('a', 1)
    await queue.flush()
    assert.equal(calls, 3)
    assert.deepEqual(failures, [{ key: 'a', attempt: 1, retryIn: 10 }, { key: 'a', attempt: 2, retryIn: 20 }])
    assert.ok(Date.now() - started >= 30)
    await queue.stop()
  })

  test('a job is given up after maxAttempts; flush does not wait for it forever', async () => {
    const { queue, failures, runs } = recordingQueue({ maxAttempts: 3, retryDelay: 1 }, async () => { throw new Error('no peers') })
    queue.schedule('a', 1)
    await queue.flush()
    assert.equal(runs.length, 3)
    assert.deepEqual(failures.map((f) => f.retryIn), [1, 2, undefined])
    assert.equal(queue.tracked, 1, 'still republished later')
    await queue.stop()
  })

  test('a job scheduled during its backoff replaces the one to retry', async () => {
    let calls = 0
    const { queue, runs } = recordingQueue({ retryDelay: 20 }, async () => {
      if (++calls === 1) throw new Error('no peers')
    })
    queue.schedule('a', 1)
    await waitFor(() => runs.length === 1 && queue.pending === 1, 'the first failure')
    queue.schedule('a', 2)
    await queue.flush()
    assert.deepEqual(runs, [['a', 1], ['a', 2]])
    await queue.stop()
  })

  test('succeeded keys run again after the republish interval, with their latest job', async () => {
    const { queue, runs } = recordingQueue({ republishInterval: 20 })
    queue.schedule('a', 1)
    queue.schedule('b', 2)
    await waitFor(() => runs.filter(([k]) => k === 'a').length >= 3 && runs.filter(([k]) => k === 'b').length >= 3, 'two republishes of each key')
    assert.ok(runs.every(([k, j]) => (k === 'a' && j === 1) || (k === 'b' && j === 2)))
    queue.forget('a')
    const seen = runs.length
    await waitFor(() => runs.length >= seen + 2, 'more republishes of b')
    assert.ok(runs.slice(seen + 1).every(([k]) => k === 'b'), 'a forgotten key is not republished')
    await queue.stop()
    const stoppedAt = runs.length
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.ok(runs.length <= stoppedAt + 1, 'nothing is republished after stop')
  })

  test('tracked keys run first at their own due times, then at their slot of every interval; keys the queue knows are left alone (mocked clock)', async (t) => {
    t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 })
    const HOUR = 60 * 60 * 1000
    const interval = 22 * HOUR
    const times = new Map<string, number[]>()
    const { queue, runs } = recordingQueue({ republishInterval: interval }, async (key) => {
      times.set(key, [...times.get(key) ?? [], Date.now()])
    })
    queue.schedule('known', 0)
    await queue.flush()
    const now = Date.now()
    const jobs: Record<string, number> = { early: 1, middle: 2, late: 3, known: 9 }
    queue.track([
      { key: 'late', due: now + 20 * HOUR },
      { key: 'early', due: now + 1 * HOUR },
      { key: 'known', due: now + 2 * HOUR },
      { key: 'middle', due: now + 10 * HOUR }
    ], (key) => jobs[key] ?? 0)
    assert.equal(queue.tracked, 4, 'three tracked, and the known key republished as usual')
    const ran = async (hours: number): Promise<string[]> => {
      for (let h = 0; h < hours; h += 0.5) {
        t.mock.timers.tick(0.5 * HOUR)
        for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => { queueMicrotask(resolve) })
        await queue.flush()
      }
      return runs.map(([key]) => key)
    }
    assert.deepEqual(await ran(0.5), ['known'])
    assert.deepEqual((await ran(1)).filter((k) => k !== 'known'), ['early'])
    assert.deepEqual((await ran(9)).filter((k) => k !== 'known'), ['early', 'middle'])
    assert.deepEqual((await ran(10)).filter((k) => k !== 'known'), ['early', 'middle', 'late'])
    assert.equal(times.get('known')?.[1] === now + 2 * HOUR, false, 'the known key is not run by its tracking')
    assert.deepEqual(runs.slice(0, 4).filter(([k]) => k !== 'known').map(([, job]) => job), [1, 2, 3])
    // Then each runs at its slot: the first half an interval or more after its run, then every interval.
    await ran(70)
    for (const key of ['early', 'middle', 'late', 'known']) {
      const at = times.get(key) ?? []
      assert.ok(at.length >= 3, `${key} ran again`)
      const gaps = at.slice(1).map((time, i) => time - (at[i] as number))
      assert.ok(gaps[0] !== undefined && gaps[0] >= interval / 2 && gaps[0] < 1.5 * interval + HOUR, `${key}: its first republish within 0.5 to 1.5 intervals`)
      for (const gap of gaps.slice(1)) assert.equal(gap, interval, `${key}: then every interval`)
      // (The mocked clock moves half an hour at a time: a run comes at the first step at or after its slot.)
      for (const time of at.slice(1)) assert.ok(queue.nextSlot(key, time - HOUR / 2 + 1) <= time, `${key}: republished at its slot`)
    }
    await queue.stop()
    assert.equal(queue.tracked, 0)
  })

  test('a key\'s slots are one interval apart, at the same point of every interval whatever the time asked from', () => {
    const interval = 1000
    const { queue } = recordingQueue({ republishInterval: interval })
    const slot = queue.nextSlot('k', 5_000_000)
    assert.ok(slot >= 5_000_000 && slot < 5_000_000 + interval)
    assert.equal(queue.nextSlot('k', slot), slot, 'a slot is its own next slot')
    assert.equal(queue.nextSlot('k', slot + 1), slot + interval)
    assert.equal(queue.nextSlot('k', slot - interval + 1), slot)
    const salted = recordingQueue({ republishInterval: interval, salt: 'another author' }).queue
    const slots = ['a', 'b', 'c', 'd', 'e'].map((key) => [queue.nextSlot(key, 0), salted.nextSlot(key, 0)])
    assert.ok(slots.some(([a, b]) => a !== b), 'another salt puts keys at other points of the interval')
  })

  test('stop drops waiting jobs, ignores later schedules, and waits for running ones', async () => {
    const gate = deferred()
    const { queue, runs } = recordingQueue({ concurrency: 1 }, async () => { await gate.promise })
    queue.schedule('a', 1)
    queue.schedule('b', 2)
    await waitFor(() => runs.length === 1, 'the first run')
    let stopped = false
    const stopping = queue.stop().then(() => { stopped = true })
    queue.schedule('c', 3)
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(stopped, false, 'stop waits for the running job')
    gate.resolve()
    await stopping
    assert.deepEqual(runs, [['a', 1]])
    assert.equal(queue.pending, 0)
    assert.equal(queue.tracked, 0)
  })

  test('a delayed job waits in the queue, counted as pending; schedules meanwhile coalesce into one run', async () => {
    const { queue, runs } = recordingQueue()
    // (A delay far above a loaded machine's turn of the event loop.)
    queue.schedule('a', 1, 300)
    queue.schedule('a', 2, 300)
    queue.schedule('b', 3, 300)
    assert.equal(queue.pending, 2)
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(runs, [], 'nothing runs before the delay')
    await queue.flush()
    assert.deepEqual(runs, [['a', 2], ['b', 3]])
    await queue.stop()
  })

  test('a hold keeps delayed jobs back until it is released; handOver queues them at once', async () => {
    const { queue, runs } = recordingQueue({ maxHold: 60_000 })
    const release = queue.hold()
    queue.schedule('a', 1, 5)
    await new Promise((resolve) => setTimeout(resolve, 40))
    assert.deepEqual(runs, [], 'held')
    release()
    release() // a second release changes nothing
    await queue.flush()
    assert.deepEqual(runs, [['a', 1]])
    const again = queue.hold()
    queue.schedule('b', 2, 60_000)
    queue.handOver()
    await queue.flush()
    assert.deepEqual(runs, [['a', 1], ['b', 2]])
    again()
    await queue.stop()
  })

  test('parked jobs wait for resume, are not pending, and a schedule replaces them', async () => {
    const { queue, runs } = recordingQueue()
    queue.park('a', 1)
    queue.park('b', 2)
    queue.schedule('b', 3)
    await queue.flush()
    assert.deepEqual(runs, [['b', 3]])
    assert.equal(queue.pending, 0)
    queue.resume()
    await queue.flush()
    assert.deepEqual(runs, [['b', 3], ['a', 1]])
    queue.resume()
    await queue.flush()
    assert.equal(runs.length, 2, 'a resumed job is no longer parked')
    await queue.stop()
  })

  test('a job given up is parked: resume runs it again', async () => {
    let fail = true
    const { queue, runs, failures } = recordingQueue({ maxAttempts: 2, retryDelay: 1 }, async () => { if (fail) throw new Error('no peers') })
    queue.schedule('a', 1)
    await waitFor(() => failures.some((f) => f.retryIn === undefined), 'the job given up')
    await queue.flush()
    fail = false
    const before = runs.length
    queue.resume()
    await queue.flush()
    assert.equal(runs.length, before + 1)
    await queue.stop()
  })

  test('the last put of a key is remembered, bounded, and dropped by forget', async () => {
    const { queue } = recordingQueue()
    queue.putDone('a', { hash: 'h1', at: 1, acknowledged: 3 })
    queue.putDone('a', { hash: 'h2', at: 2, acknowledged: 1 })
    assert.deepEqual(queue.recent('a'), { hash: 'h2', at: 2, acknowledged: 1 })
    queue.forget('a')
    assert.equal(queue.recent('a'), undefined)
    for (let i = 0; i < 10_001; i++) queue.putDone(`k${i}`, { hash: 'h', at: i, acknowledged: 1 })
    assert.equal(queue.recent('k0'), undefined, 'the oldest is forgotten past the bound')
    assert.equal(queue.recent('k10000')?.at, 10_000)
    await queue.stop()
  })
})
