import { ValidationError } from './errors.js';
import type { Store } from './store.js';

/** The methods of `T` that an implementation must have (optional ones, like `publish`, left out). */
type RequiredMethods<T> = {
  [K in keyof T]-?: undefined extends T[K] ? never : T[K] extends (...args: never[]) => unknown ? K : never;
}[keyof T];

const STORE_METHODS = [
  'init',
  'close',
  'findDueJobs',
  'nextWakeAt',
  'fireSlots',
  'fireAndClaim',
  'createRun',
  'createRuns',
  'claimRuns',
  'renewLease',
  'finishRuns',
  'finishAndClaim',
  'findExpiredLeases',
  'cancelRun',
  'insertJob',
  'insertJobs',
  'getJob',
  'findJobByName',
  'listJobs',
  'updateJob',
  'deleteJob',
  'getRun',
  'listRuns',
  'failStaleRuns',
  'pruneRuns',
  'listAudit',
  'pruneAudit',
  'countRuns',
  'countActive',
  'executorSummaries',
  'nextJobRunAt',
  'consumeRateLimits',
] as const satisfies readonly RequiredMethods<Store>[];

// A method added to Store without being listed above fails to compile here.
const listsEveryMethod: [RequiredMethods<Store>] extends [(typeof STORE_METHODS)[number]] ? true : never =
  true;
void listsEveryMethod;

/**
 * Refuses what is not a whole Store when the scheduler is created. A store written for an earlier
 * version, or a wrapper that forwards only some methods, is told each method it lacks, rather than
 * failing later on the first tick, page or admin call that needs one.
 */
export function assertStore(store: unknown): asserts store is Store {
  const example = '(e.g. memoryStore() from @cronkeeper/adapter-memory)';
  if (typeof store !== 'object' || store === null)
    throw ValidationError.field('store', `must be a Store ${example}`);
  const missing = STORE_METHODS.filter(
    (key) => typeof (store as Record<string, unknown>)[key] !== 'function',
  );
  if (missing.length === STORE_METHODS.length)
    throw ValidationError.field('store', `must be a Store ${example}`);
  if (missing.length > 0)
    throw ValidationError.field(
      'store',
      `must be a Store ${example}: ${missing.map((key) => `${key}()`).join(', ')} missing`,
    );
}
