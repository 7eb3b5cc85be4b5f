import { DURATION_LIMITS } from './duration.js';
import type { NewRun } from './store.js';
import type {
  Job,
  JsonObject,
  OverlapPolicy,
  RetryPolicy,
  Run,
  RunError,
  RunTask,
  RunTrigger,
} from './types.js';

/** Tasks of a job as a run records them: job params merged under each task's own. */
export function tasksOf(job: Pick<Job, 'tasks' | 'params'>): RunTask[] {
  return job.tasks.map((task) => ({
    executor: task.executor,
    status: task.enabled ? 'pending' : 'skipped',
    params: { ...job.params, ...task.params },
    startedAt: null,
    finishedAt: null,
    result: null,
    error: null,
  }));
}

/** The key under which runs of one job (or one job-less executor) obey the overlap rules together. */
export function concurrencyKeyOf(job: Job | null, executor: string, tenantId: string | null): string {
  if (job) return `job:${job.id}`;
  const tenant = tenantId ?? '';
  // Names without a colon keep the key runs already stored carry (`executor:<tenant>:<name>`, two
  // colons in all); any other pair is a JSON array, which no such key starts with (`[`).
  if (!tenant.includes(':') && !tenant.startsWith('[') && !executor.includes(':'))
    return `executor:${tenant}:${executor}`;
  return `executor:${JSON.stringify([tenantId, executor])}`;
}

/** What a run is, before the store gives it an id. */
export interface RunSpec {
  job: Job | null;
  /** For job-less runs: the executor to run. */
  executor: string | null;
  tenantId: string | null;
  trigger: RunTrigger;
  runAt: Date;
  now: Date;
  params: JsonObject;
  triggeredBy: string | null;
  overlap: OverlapPolicy;
  scheduledFor: Date | null;
  dedupeKey: string | null;
  maxAttempts: number;
  timeoutMs: number | null;
}

/** A fresh pending run. */
export function buildRun(spec: RunSpec): NewRun {
  const tasks: RunTask[] = spec.job
    ? tasksOf(spec.job)
    : [
        {
          executor: spec.executor as string,
          status: 'pending',
          params: {},
          startedAt: null,
          finishedAt: null,
          result: null,
          error: null,
        },
      ];
  const executor = tasks[0]?.executor ?? (spec.executor as string);
  return {
    jobId: spec.job?.id ?? null,
    jobName: spec.job?.name ?? null,
    executor,
    tenantId: spec.tenantId,
    trigger: spec.trigger,
    status: 'pending',
    tasks,
    scheduledFor: spec.scheduledFor,
    runAt: spec.runAt,
    createdAt: spec.now,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    params: spec.params,
    result: null,
    error: null,
    attempt: 1,
    maxAttempts: spec.maxAttempts,
    parentRunId: null,
    triggeredBy: spec.triggeredBy,
    workerId: null,
    leaseUntil: null,
    priority: spec.job?.priority ?? 0,
    overlap: spec.overlap,
    concurrencyKey: concurrencyKeyOf(spec.job, executor, spec.tenantId),
    dedupeKey: spec.dedupeKey,
    timeoutMs: spec.timeoutMs,
    cancelRequested: false,
    progress: null,
    logs: [],
  };
}

/**
 * The run of a job's cron slot: due at the slot plus the job's jitter, and created at most once
 * across instances, by its dedupe key.
 */
export function buildSlotRun(
  job: Job,
  slot: Date,
  options: { now: Date; overlap: OverlapPolicy; maxAttempts: number; random: () => number },
): NewRun {
  return buildRun({
    job,
    executor: null,
    tenantId: job.tenantId,
    trigger: 'schedule',
    // Capped again here: a job stored before jitter had a limit must still get a valid runAt.
    runAt: new Date(
      slot.getTime() + Math.floor(options.random() * Math.min(job.jitterMs, DURATION_LIMITS.jitter)),
    ),
    now: options.now,
    params: {},
    triggeredBy: null,
    overlap: options.overlap,
    scheduledFor: slot,
    dedupeKey: `slot:${job.id}:${slot.toISOString()}`,
    maxAttempts: options.maxAttempts,
    timeoutMs: job.timeoutMs,
  });
}

/**
 * Wait before attempt `attempt + 1`, per the policy. Never more than the longest retry delay: an
 * uncapped exponential backoff doubles past any date after a few dozen attempts.
 */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const { type, delay, max } = policy.backoff;
  if (type === 'fixed') return Math.min(delay, DURATION_LIMITS.retryDelay);
  return Math.min(delay * 2 ** (attempt - 1), max ?? Number.POSITIVE_INFINITY, DURATION_LIMITS.retryDelay);
}

/** The retry of a failed run: same work, next attempt, later `runAt`, deduplicated per parent. */
export function buildRetry(failed: Run, policy: RetryPolicy, now: Date): NewRun {
  const { id: parentRunId, ...rest } = failed;
  return {
    ...rest,
    trigger: 'retry',
    status: 'pending',
    tasks: failed.tasks.map((task) => ({
      ...task,
      // Disabled tasks stay skipped; tasks skipped because an earlier one failed run again.
      status: task.status === 'skipped' && task.error === null ? task.status : 'pending',
      startedAt: null,
      finishedAt: null,
      result: null,
      error: null,
    })),
    runAt: new Date(now.getTime() + backoffMs(policy, failed.attempt)),
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    result: null,
    error: null,
    attempt: failed.attempt + 1,
    parentRunId,
    workerId: null,
    leaseUntil: null,
    // A retry must not be dropped because the next slot happens to be running.
    overlap: failed.overlap === 'allow' ? 'allow' : 'queue',
    dedupeKey: `retry:${failed.id}`,
    cancelRequested: false,
    progress: null,
    logs: [],
  };
}

/**
 * The error of a run skipped by the overlap policy, as every store writes it (PostgreSQL's claim
 * function holds the same text).
 */
export const OVERLAP_SKIP_ERROR: Readonly<RunError> = {
  code: 'overlap',
  message: 'skipped: a run with the same concurrency key was running (overlap "skip")',
};

/**
 * `run`, recorded skipped at `now` by the overlap policy instead of pending: what a claim would
 * make of it, with its tasks ended as skipped too.
 */
export function skippedRun(run: NewRun, now: Date): NewRun {
  return {
    ...run,
    status: 'skipped',
    finishedAt: now,
    error: { ...OVERLAP_SKIP_ERROR },
    tasks: run.tasks.map((task) =>
      task.status === 'pending' || task.status === 'running' ? { ...task, status: 'skipped' } : task,
    ),
  };
}
