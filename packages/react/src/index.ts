/**
 * `@kadmium/react`: React hooks over `@kadmium/core`'s live reads, on
 * `useSyncExternalStore`: `useQuery` (a live query's rows), `useRecord`
 * (one record), `usePresence` (the peers present) and `useStatus`
 * (`db.status`).
 * @module \@kadmium/react
 */
export { usePresence, useQuery, useRecord, useStatus } from './hooks.ts'
export type { UseStatusOptions } from './hooks.ts'
