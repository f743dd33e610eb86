import { test } from 'node:test'
import { memoryStorage } from '@kadmium/core'
import { storageAdapterTests } from '@kadmium/core/testing'

// Memory storage keeps nothing once closed: every open is a new, empty store.
for (const c of storageAdapterTests({ open: async () => memoryStorage(), persistent: false })) {
  test(c.name, c.fn)
}
