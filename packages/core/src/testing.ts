/**
 * `@cronkeeper/core/testing`: helpers for testing jobs and stores under any test runner (node:test,
 * jest, mocha, vitest): a manual clock for fake time and record builders. Imports no test runner;
 * the Store contract suite, which needs vitest, is `@cronkeeper/core/contract`.
 */
export { type ManualClock, manualClock } from './clock.js';
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
