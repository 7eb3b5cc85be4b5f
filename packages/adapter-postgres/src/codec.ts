import type { Job, JobPatch, NewJob, NewRun, Run, RunLogLine, RunTask } from '@cronkeeper/core';
import { createdRun, FROZEN_JOB_FIELDS } from '@cronkeeper/core';

/** How a column's value crosses between a row and a record. */
type Kind = 'text' | 'number' | 'bool' | 'time' | 'json';

type Columns<T> = readonly (readonly [keyof T & string, string, Kind])[];

const JOB_COLUMNS: Columns<Job> = [
  ['id', 'id', 'text'],
  ['name', 'name', 'text'],
  ['tenantId', 'tenant_id', 'text'],
  ['description', 'description', 'text'],
  ['schedule', 'schedule', 'text'],
  ['timezone', 'timezone', 'text'],
  ['tasks', 'tasks', 'json'],
  ['params', 'params', 'json'],
  ['enabled', 'enabled', 'bool'],
  ['pausedNote', 'paused_note', 'text'],
  ['overlap', 'overlap', 'text'],
  ['misfire', 'misfire', 'text'],
  ['catchUpLimit', 'catch_up_limit', 'number'],
  ['misfireGraceMs', 'misfire_grace_ms', 'number'],
  ['timeoutMs', 'timeout_ms', 'number'],
  ['retry', 'retry', 'json'],
  ['autoPause', 'auto_pause', 'json'],
  ['jitterMs', 'jitter_ms', 'number'],
  ['priority', 'priority', 'number'],
  ['activeFrom', 'active_from', 'time'],
  ['activeUntil', 'active_until', 'time'],
  ['nextRunAt', 'next_run_at', 'time'],
  ['lastRunAt', 'last_run_at', 'time'],
  ['lastRunId', 'last_run_id', 'text'],
  ['lastStatus', 'last_status', 'text'],
  ['lastError', 'last_error', 'text'],
  ['lastDurationMs', 'last_duration_ms', 'number'],
  ['runCount', 'run_count', 'number'],
  ['errorCount', 'error_count', 'number'],
  ['consecutiveFailures', 'consecutive_failures', 'number'],
  ['createdAt', 'created_at', 'time'],
  ['createdBy', 'created_by', 'text'],
  ['updatedAt', 'updated_at', 'time'],
  ['updatedBy', 'updated_by', 'text'],
  ['version', 'version', 'number'],
  ['metadata', 'metadata', 'json'],
];

const RUN_COLUMNS: Columns<Run> = [
  ['id', 'id', 'text'],
  ['jobId', 'job_id', 'text'],
  ['jobName', 'job_name', 'text'],
  ['executor', 'executor', 'text'],
  ['tenantId', 'tenant_id', 'text'],
  ['trigger', 'trigger', 'text'],
  ['status', 'status', 'text'],
  ['tasks', 'tasks', 'json'],
  ['scheduledFor', 'scheduled_for', 'time'],
  ['runAt', 'run_at', 'time'],
  ['createdAt', 'created_at', 'time'],
  ['startedAt', 'started_at', 'time'],
  ['finishedAt', 'finished_at', 'time'],
  ['durationMs', 'duration_ms', 'number'],
  ['params', 'params', 'json'],
  ['result', 'result', 'json'],
  ['error', 'error', 'json'],
  ['attempt', 'attempt', 'number'],
  ['maxAttempts', 'max_attempts', 'number'],
  ['parentRunId', 'parent_run_id', 'text'],
  ['triggeredBy', 'triggered_by', 'text'],
  ['workerId', 'worker_id', 'text'],
  ['leaseUntil', 'lease_until', 'time'],
  ['priority', 'priority', 'number'],
  ['overlap', 'overlap', 'text'],
  ['concurrencyKey', 'concurrency_key', 'text'],
  ['dedupeKey', 'dedupe_key', 'text'],
  ['timeoutMs', 'timeout_ms', 'number'],
  ['cancelRequested', 'cancel_requested', 'bool'],
  ['progress', 'progress', 'json'],
  ['logs', 'logs', 'json'],
];

/** Job fields `updateJob` may write, by record field: the column each maps to. */
export const PATCHABLE_JOB_COLUMNS: ReadonlyMap<string, string> = new Map(
  JOB_COLUMNS.filter(
    ([field]) =>
      // updatedAt is written from `now`, never from a patch.
      field !== 'updatedAt' && !(FROZEN_JOB_FIELDS as readonly string[]).includes(field),
  ).map(([field, column]) => [field, column]),
);

// Rows come either from `SELECT *` (dates as Date, bigint as string) or from `to_jsonb(row)`
// (dates as ISO strings, numbers as numbers): each decoder accepts both. JSON columns are `jsonb`,
// which the driver has already parsed in both cases: a string here is a JSON string value (a
// result of `'pong'` or `'42'`), never JSON text to parse again.
function decodeValue(value: unknown, kind: Kind): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'time':
      return new Date(value as string | Date);
    case 'number':
      return Number(value);
    case 'bool':
      return value === true || value === 't' || value === 'true';
    case 'json':
      return value;
    default:
      return String(value);
  }
}

function decodeRecord<T>(row: Record<string, unknown>, columns: Columns<T>): T {
  const record: Record<string, unknown> = {};
  for (const [field, column, kind] of columns) record[field] = decodeValue(row[column], kind);
  return record as T;
}

const toDate = (value: unknown): Date | null =>
  value === null || value === undefined ? null : new Date(value as string);

function decodeTasks(tasks: RunTask[]): RunTask[] {
  return tasks.map((task) => ({
    ...task,
    startedAt: toDate(task.startedAt),
    finishedAt: toDate(task.finishedAt),
  }));
}

function decodeLogs(logs: RunLogLine[]): RunLogLine[] {
  return logs.map((line) => ({ ...line, at: new Date(line.at) }));
}

/** A job row (or its `to_jsonb`) as a Job. */
export function decodeJob(row: Record<string, unknown>): Job {
  const job = decodeRecord<Job>(row, JOB_COLUMNS);
  job.params ??= {};
  job.metadata ??= {};
  return job;
}

/** A run row (or its `to_jsonb`) as a Run, with the dates inside tasks and logs revived. */
export function decodeRun(row: Record<string, unknown>): Run {
  const run = decodeRecord<Run>(row, RUN_COLUMNS);
  run.tasks = decodeTasks(run.tasks ?? []);
  run.logs = decodeLogs(run.logs ?? []);
  run.params ??= {};
  return run;
}

function encodeRecord<T>(
  record: Partial<T>,
  columns: Columns<T>,
  omitNulls = false,
): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [field, column, kind] of columns) {
    const value = record[field];
    if (value === undefined || (omitNulls && value === null)) continue;
    row[column] = kind === 'time' && value !== null ? (value as unknown as Date).toISOString() : value;
  }
  return row;
}

/**
 * A record as a JSON object keyed by column, for `jsonb_populate_record(NULL::table, $1)`: the
 * database casts every value to its column's type, so one parameter carries a whole row.
 */
export function encodeJob(job: NewJob & { id: string; version: number }): string {
  return JSON.stringify(encodeJobRow(job));
}

/** A job as a JSON row object (see {@link encodeJob}), for statements that carry many. */
export function encodeJobRow(job: NewJob & { id: string; version: number }): Record<string, unknown> {
  return encodeRecord<Job>(job, JOB_COLUMNS);
}

/**
 * {@link encodeJobRow} without its null columns, for `jsonb_populate_recordset`, which reads a
 * missing key as NULL just as it reads a JSON null: an import sends a third less to parse.
 */
export function encodeJobRowSparse(job: Job): Record<string, unknown> {
  return encodeRecord<Job>(job, JOB_COLUMNS, true);
}

/** A run with its id, as a JSON row (see {@link encodeJob}). */
export function encodeRunRow(run: NewRun, id: string): Record<string, unknown> {
  return encodeCreatedRunRow(createdRun(run, id));
}

/** A run with its id (see {@link createdRun}) as a JSON row. */
export function encodeCreatedRunRow(run: Run): Record<string, unknown> {
  return encodeRecord<Run>(run, RUN_COLUMNS);
}

/** {@link encodeCreatedRunRow} without its null columns, for `jsonb_populate_recordset` (see {@link encodeJobRowSparse}). */
export function encodeCreatedRunRowSparse(run: Run): Record<string, unknown> {
  return encodeRecord<Run>(run, RUN_COLUMNS, true);
}

/** The columns a patch sets, and the patch as a JSON row. Unknown and frozen fields are dropped. */
export function encodeJobPatch(patch: JobPatch): { columns: string[]; row: string } {
  const kept: Record<string, unknown> = {};
  const columns: string[] = [];
  for (const [field, value] of Object.entries(patch)) {
    const column = PATCHABLE_JOB_COLUMNS.get(field);
    if (column === undefined || value === undefined) continue;
    kept[field] = value;
    columns.push(column);
  }
  return { columns, row: JSON.stringify(encodeRecord<Job>(kept as Partial<Job>, JOB_COLUMNS)) };
}
