import { DURATION_LIMITS, toMs } from './duration.js';
import type { RetryInput } from './executor.js';
import type { ExecutorRegistry } from './executors.js';
import type { Job, RetryPolicy } from './types.js';

/** Normalise a user's retry input (durations as text, optional backoff) into a stored policy. */
export function toRetryPolicy(input: RetryInput, field = 'retry'): RetryPolicy {
  const backoff = input.backoff ?? { type: 'fixed', delay: 1000 };
  return {
    // -0 as 0, as the databases store it.
    limit: input.limit === 0 ? 0 : input.limit,
    backoff: {
      type: backoff.type,
      delay: toMs(backoff.delay, `${field}.backoff.delay`, DURATION_LIMITS.retryDelay),
      max:
        backoff.max === undefined || backoff.max === null
          ? null
          : toMs(backoff.max, `${field}.backoff.max`, DURATION_LIMITS.retryDelay),
    },
  };
}

/** The retry policy of a run: its job's, else its first task's executor's, else none. */
export function retryPolicyOf(
  job: Pick<Job, 'retry'> & { tasks: ReadonlyArray<{ executor: string }> },
  registry: ExecutorRegistry,
): RetryPolicy | null {
  if (job.retry) return job.retry;
  const first = job.tasks[0];
  const executorRetry = first ? registry.get(first.executor)?.retry : null;
  return executorRetry ? toRetryPolicy(executorRetry) : null;
}
