import type { NewAuditEntry, NewJob, NewRun } from '../store.js';
import type { Job } from '../types.js';

/** The fixed instant the contract suite treats as "now": every test runs in fake time around it. */
export const T0: Date = new Date('2026-01-01T00:00:00.000Z');

/** Milliseconds in a second, minute, hour and day, for building instants around {@link T0}. */
export const SECOND = 1_000;
/** Milliseconds in a minute. */
export const MINUTE = 60 * SECOND;
/** Milliseconds in an hour. */
export const HOUR = 60 * MINUTE;
/** Milliseconds in a day. */
export const DAY = 24 * HOUR;

/** The instant `offsetMs` after {@link T0} (before it when negative). */
export function at(offsetMs: number): Date {
  return new Date(T0.getTime() + offsetMs);
}

let sequence = 0;

function nextName(prefix: string): string {
  sequence += 1;
  return `${prefix}-${String(sequence).padStart(6, '0')}`;
}

/**
 * A complete `NewJob` with sensible defaults (global, enabled, due one minute after {@link T0},
 * one `test.echo` task), overridden by `overrides`. Names are unique within the process.
 */
export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  return {
    name: nextName('job'),
    tenantId: null,
    description: null,
    schedule: '* * * * *',
    timezone: 'UTC',
    tasks: [{ executor: 'test.echo', enabled: true, params: {} }],
    params: {},
    enabled: true,
    pausedNote: null,
    overlap: 'skip',
    misfire: 'once',
    catchUpLimit: 10,
    misfireGraceMs: null,
    timeoutMs: null,
    retry: null,
    autoPause: null,
    jitterMs: 0,
    priority: 0,
    activeFrom: null,
    activeUntil: null,
    nextRunAt: at(MINUTE),
    lastRunAt: null,
    lastRunId: null,
    lastStatus: null,
    lastError: null,
    lastDurationMs: null,
    runCount: 0,
    errorCount: 0,
    consecutiveFailures: 0,
    createdAt: at(0),
    createdBy: null,
    updatedAt: at(0),
    updatedBy: null,
    metadata: {},
    ...overrides,
  };
}

/**
 * A complete pending `NewRun` with sensible defaults (manual, global, due at {@link T0}, overlap
 * `queue` under a concurrency key of its own), overridden by `overrides`.
 */
export function newRun(overrides: Partial<NewRun> = {}): NewRun {
  const executor = overrides.executor ?? 'test.echo';
  return {
    jobId: null,
    jobName: null,
    executor,
    tenantId: null,
    trigger: 'manual',
    status: 'pending',
    tasks: [
      {
        executor,
        status: 'pending',
        params: {},
        startedAt: null,
        finishedAt: null,
        result: null,
        error: null,
      },
    ],
    scheduledFor: null,
    runAt: at(0),
    createdAt: at(0),
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    params: {},
    result: null,
    error: null,
    attempt: 1,
    maxAttempts: 1,
    parentRunId: null,
    triggeredBy: null,
    workerId: null,
    leaseUntil: null,
    priority: 0,
    overlap: 'queue',
    concurrencyKey: nextName('key'),
    dedupeKey: null,
    timeoutMs: null,
    cancelRequested: false,
    progress: null,
    logs: [],
    ...overrides,
  };
}

/** A `NewRun` of a stored job, as core builds one: same tenant, key, overlap and priority. */
export function newRunOf(job: Job, overrides: Partial<NewRun> = {}): NewRun {
  return newRun({
    jobId: job.id,
    jobName: job.name,
    executor: job.tasks[0]?.executor ?? 'test.echo',
    tenantId: job.tenantId,
    trigger: 'schedule',
    priority: job.priority,
    overlap: job.overlap,
    concurrencyKey: `job:${job.id}`,
    ...overrides,
  });
}

/** A complete `NewAuditEntry` (an update of a global job at {@link T0}), overridden by `overrides`. */
export function newAuditEntry(overrides: Partial<NewAuditEntry> = {}): NewAuditEntry {
  return {
    at: at(0),
    actor: 'alice',
    action: 'updated',
    job: nextName('job'),
    tenantId: null,
    before: { description: null },
    after: { description: 'changed' },
    note: null,
    ...overrides,
  };
}
