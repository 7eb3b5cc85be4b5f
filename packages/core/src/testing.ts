/**
 * `@cronkeeper/core/testing`: the Store contract suite every adapter runs, the record builders it
 * uses, and a manual clock for testing schedules in fake time. Needs `vitest` (optional peer).
 */
export { type ManualClock, manualClock } from './clock.js';
export { runStoreContract } from './testing/contract.js';
export type { StoreHarness } from './testing/harness.js';
export {
  at,
  DAY,
  HOUR,
  MINUTE,
  newAuditEntry,
  newJob,
  newRun,
  newRunOf,
  SECOND,
  T0,
} from './testing/records.js';
