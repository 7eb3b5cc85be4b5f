import type { Job, Run } from './types.js';

/**
 * What a tenant may see of records that are not its own. A confined tenant reads the global jobs
 * (they may run for it) as far as their timing and shape go: name, description, schedule, zone,
 * executors, policies, enabled and pause note, next run. It never sees how a global job's runs
 * went (last run, last error, counts: a global run's outcome may describe every tenant, or leak a
 * connection string in an error), what it runs with (params, task params, metadata, which are
 * the operator's configuration), or who changed it. Nor, on any record, which instance (host
 * name, process id) ran it. `viewer` is the tenant looking, null for an operator who sees all.
 */
export function jobAsSeenBy(job: Job, viewer: string | null): Job {
  if (viewer === null || job.tenantId === viewer) return job;
  return {
    ...job,
    tasks: job.tasks.map((task) => ({ ...task, params: {} })),
    params: {},
    metadata: {},
    lastRunAt: null,
    lastRunId: null,
    lastStatus: null,
    lastError: null,
    lastDurationMs: null,
    runCount: 0,
    errorCount: 0,
    consecutiveFailures: 0,
    createdBy: null,
    updatedBy: null,
  };
}

/**
 * A run as a tenant sees it: without `workerId`, the id of the instance that ran it (it names a
 * host and a process). Operators (`viewer` null) see it whole. See {@link jobAsSeenBy}.
 */
export function runAsSeenBy(run: Run, viewer: string | null): Run {
  return viewer === null || run.workerId === null ? run : { ...run, workerId: null };
}
