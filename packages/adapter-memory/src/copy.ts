import type { Job } from '@cronkeeper/core';

/**
 * A deep copy of a stored record: plain objects, arrays and Dates are copied, primitives shared.
 * Records hold only JSON values and Dates, so this is all `structuredClone` would do, several
 * times faster on the small objects the store copies on every call.
 */
export function copy<T>(value: T): T {
  return copyValue(value) as T;
}

function copyValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) return value.map(copyValue);
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = copyValue((value as Record<string, unknown>)[key]);
    // A JSON key "__proto__" is data: assigning it would replace the copy's prototype instead.
    if (key === '__proto__')
      Object.defineProperty(result, key, {
        value: field,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else result[key] = field;
  }
  return result;
}

/**
 * A deep copy of a job as `insertedJob` builds it: `copy`'s result, written field by field so an
 * import of many jobs does not walk each one's keys.
 */
export function copyJob(job: Job): Job {
  return {
    name: job.name,
    tenantId: job.tenantId,
    description: job.description,
    schedule: job.schedule,
    timezone: job.timezone,
    tasks: copy(job.tasks),
    params: copy(job.params),
    enabled: job.enabled,
    pausedNote: job.pausedNote,
    overlap: job.overlap,
    misfire: job.misfire,
    catchUpLimit: job.catchUpLimit,
    misfireGraceMs: job.misfireGraceMs,
    timeoutMs: job.timeoutMs,
    retry: copy(job.retry),
    autoPause: copy(job.autoPause),
    jitterMs: job.jitterMs,
    priority: job.priority,
    activeFrom: copy(job.activeFrom),
    activeUntil: copy(job.activeUntil),
    metadata: copy(job.metadata),
    nextRunAt: copy(job.nextRunAt),
    lastRunAt: copy(job.lastRunAt),
    lastRunId: job.lastRunId,
    lastStatus: job.lastStatus,
    lastError: job.lastError,
    lastDurationMs: job.lastDurationMs,
    runCount: job.runCount,
    errorCount: job.errorCount,
    consecutiveFailures: job.consecutiveFailures,
    createdAt: copy(job.createdAt),
    createdBy: job.createdBy,
    updatedAt: copy(job.updatedAt),
    updatedBy: job.updatedBy,
    id: job.id,
    version: job.version,
  };
}
