import type {
  AutoPausePolicy,
  Job,
  JobTask,
  JsonObject,
  JsonValue,
  NewJob,
  NewRun,
  RetryPolicy,
  Run,
  RunError,
  RunLogLine,
  RunProgress,
  RunTask,
} from '@cronkeeper/core';
import { FROZEN_JOB_FIELDS } from '@cronkeeper/core';
import type { AuditDocument } from './audit.js';

/**
 * How records are kept in MongoDB. Instants are BSON dates and fixed-shape values (errors, retry
 * policies, progress, logs) are subdocuments, so they can be queried and indexed. Free-form JSON
 * (params, metadata, task params and results) is kept as JSON text: its keys come from users and
 * may contain `.` or start with `$`, which update operators and older servers refuse.
 */

/** A job task as stored: `params` as JSON text. */
export interface JobTaskDocument {
  executor: string;
  enabled: boolean;
  params: string;
}

/** A job as stored in the jobs collection. */
export interface JobDocument {
  _id: string;
  name: string;
  tenantId: string | null;
  description: string | null;
  schedule: string;
  timezone: string;
  tasks: JobTaskDocument[];
  params: string;
  enabled: boolean;
  pausedNote: string | null;
  overlap: Job['overlap'];
  misfire: Job['misfire'];
  catchUpLimit: number;
  misfireGraceMs: number | null;
  timeoutMs: number | null;
  retry: RetryPolicy | null;
  /** Absent on jobs written before auto-pause existed (read as null). */
  autoPause?: AutoPausePolicy | null;
  jitterMs: number;
  priority: number;
  activeFrom: Date | null;
  activeUntil: Date | null;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  lastRunId: string | null;
  lastStatus: Job['lastStatus'];
  lastError: string | null;
  lastDurationMs: number | null;
  runCount: number;
  errorCount: number;
  /** Absent on jobs written before auto-pause existed (read as 0). */
  consecutiveFailures?: number;
  createdAt: Date;
  createdBy: string | null;
  updatedAt: Date;
  updatedBy: string | null;
  version: number;
  metadata: string;
  /**
   * Internal: ids of the runs counted in the bookkeeping whose settlement is not removed yet, so a
   * repair of that settlement, however late, cannot count the run twice. An id leaves once its
   * run's settlement is gone.
   */
  countedRunIds: string[];
  /** Internal: audit entries written with this document's last change, until copied (see audit.ts). */
  auditOutbox?: AuditDocument[];
  /**
   * Internal: present from the compare-and-set that fired a slot until that caller's staged runs
   * are released; its token names them (see `firing.ts`).
   */
  firing?: FiringDocument;
}

/** The firing a job is in the middle of: whose staged runs become its slot's runs. */
export interface FiringDocument {
  token: string;
  since: Date;
}

/** A run task as stored: `params` and `result` as JSON text. */
export interface RunTaskDocument {
  executor: string;
  status: RunTask['status'];
  params: string;
  startedAt: Date | null;
  finishedAt: Date | null;
  result: string | null;
  error: RunError | null;
}

/** Work left after a run reached a terminal state: job bookkeeping and the follow-up retry. */
export interface SettlementDocument {
  /** When the run finished; orders the repair of settlements a crash interrupted. */
  since: Date;
  /** The retry to insert, with its id fixed in advance so inserting it twice is a no-op. */
  followUp: RunDocument | null;
  /** This finish is a final failure, which `autoPause` counts (absent: not counted). */
  counted?: boolean;
  /** The id the `paused` audit entry gets if this finish pauses the job (fixed, so repairs reuse it). */
  pauseAuditId?: string;
}

/**
 * A run inserted by `fireSlots` before the caller knows it fired the slot: invisible to every
 * read and claim (status `staged`, no dedupe key) until the caller that won the job's
 * compare-and-set releases it; a caller that lost deletes it.
 */
export interface StagedDocument {
  /** The firing caller's token. */
  token: string;
  /** The `nextRunAt` that caller expected: once the job moved past it, that caller lost. */
  expected: Date;
  since: Date;
  /** Status and dedupe key the run takes when released. */
  status: Run['status'];
  dedupeKey: string | null;
}

/** A run as stored in the runs collection. */
export interface RunDocument {
  _id: string;
  jobId: string | null;
  jobName: string | null;
  executor: string;
  tenantId: string | null;
  trigger: Run['trigger'];
  /** A run's status, or `staged` (internal) while its firing is undecided. */
  status: Run['status'] | 'staged';
  tasks: RunTaskDocument[];
  scheduledFor: Date | null;
  runAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  params: string;
  result: string | null;
  error: RunError | null;
  attempt: number;
  maxAttempts: number;
  parentRunId: string | null;
  triggeredBy: string | null;
  workerId: string | null;
  leaseUntil: Date | null;
  priority: number;
  overlap: Run['overlap'];
  concurrencyKey: string;
  dedupeKey: string | null;
  timeoutMs: number | null;
  cancelRequested: boolean;
  progress: RunProgress | null;
  logs: RunLogLine[];
  /** Internal: overlap is not `allow`; with `status: 'running'` it enters the exclusive-running index. */
  exclusive: boolean;
  /** Internal: the concurrency key, while a run created with `rejectIfActive` is active (unique). */
  activeKey?: string;
  /** Internal: present between the finishing write and the end of its follow-up work. */
  settlement?: SettlementDocument;
  /** Internal: audit entries written with this run's creation, until copied (see audit.ts). */
  auditOutbox?: AuditDocument[];
  /** Internal: present while the run is staged. */
  staged?: StagedDocument;
}

const date = (value: Date | null): Date | null => (value === null ? null : new Date(value.getTime()));
const json = (value: JsonValue): string => JSON.stringify(value);
const jsonOrNull = (value: JsonValue | null): string | null =>
  value === null ? null : JSON.stringify(value);
const parseObject = (text: string): JsonObject => JSON.parse(text) as JsonObject;
const parseOrNull = (text: string | null): JsonValue | null =>
  text === null ? null : (JSON.parse(text) as JsonValue);
const error = (value: RunError | null): RunError | null =>
  value === null ? null : { code: value.code, message: value.message };
const retry = (value: RetryPolicy | null): RetryPolicy | null =>
  value === null
    ? null
    : {
        limit: value.limit,
        backoff: { type: value.backoff.type, delay: value.backoff.delay, max: value.backoff.max },
      };
const autoPause = (value: AutoPausePolicy | null): AutoPausePolicy | null =>
  value === null ? null : { afterFailures: asNumber(value.afterFailures) };
/**
 * A stored count or duration as a number: computed durations are 64-bit integers, which a client
 * created with `promoteLongs: false` or `useBigInt64: true` hands back as `Long` or `bigint`.
 */
export function asNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'object' && value !== null && 'toNumber' in value)
    return (value as { toNumber(): number }).toNumber();
  throw new TypeError(`expected a number in a stored document, got ${String(value)}`);
}
export const numberOrNull = (value: unknown): number | null => (value === null ? null : asNumber(value));
const progress = (value: RunProgress | null): RunProgress | null =>
  value === null ? null : { percent: value.percent, note: value.note };

/** Log lines with only their own fields (BSON dates in, Dates out). */
export function copyLogs(logs: readonly RunLogLine[]): RunLogLine[] {
  return logs.map((line) => ({ at: new Date(line.at.getTime()), level: line.level, message: line.message }));
}

/** Job tasks as stored. */
export function encodeJobTasks(tasks: readonly JobTask[]): JobTaskDocument[] {
  return tasks.map((task) => ({ executor: task.executor, enabled: task.enabled, params: json(task.params) }));
}

/** Run tasks as stored. */
export function encodeRunTasks(tasks: readonly RunTask[]): RunTaskDocument[] {
  return tasks.map((task) => ({
    executor: task.executor,
    status: task.status,
    params: json(task.params),
    startedAt: date(task.startedAt),
    finishedAt: date(task.finishedAt),
    result: jsonOrNull(task.result),
    error: error(task.error),
  }));
}

/** The document of a new job (version 1, nothing counted yet). */
export function encodeNewJob(job: NewJob, id: string): JobDocument {
  return {
    _id: id,
    name: job.name,
    tenantId: job.tenantId,
    description: job.description,
    schedule: job.schedule,
    timezone: job.timezone,
    tasks: encodeJobTasks(job.tasks),
    params: json(job.params),
    enabled: job.enabled,
    pausedNote: job.pausedNote,
    overlap: job.overlap,
    misfire: job.misfire,
    catchUpLimit: job.catchUpLimit,
    misfireGraceMs: job.misfireGraceMs,
    timeoutMs: job.timeoutMs,
    retry: retry(job.retry),
    autoPause: autoPause(job.autoPause),
    jitterMs: job.jitterMs,
    priority: job.priority,
    activeFrom: date(job.activeFrom),
    activeUntil: date(job.activeUntil),
    nextRunAt: date(job.nextRunAt),
    lastRunAt: date(job.lastRunAt),
    lastRunId: job.lastRunId,
    lastStatus: job.lastStatus,
    lastError: job.lastError,
    lastDurationMs: job.lastDurationMs,
    runCount: job.runCount,
    errorCount: job.errorCount,
    consecutiveFailures: job.consecutiveFailures,
    createdAt: date(job.createdAt) as Date,
    createdBy: job.createdBy,
    updatedAt: date(job.updatedAt) as Date,
    updatedBy: job.updatedBy,
    version: 1,
    metadata: json(job.metadata),
    countedRunIds: [],
  };
}

/** The job in a stored document (internal fields dropped). */
export function decodeJob(doc: JobDocument): Job {
  return {
    id: doc._id,
    name: doc.name,
    tenantId: doc.tenantId,
    description: doc.description,
    schedule: doc.schedule,
    timezone: doc.timezone,
    tasks: doc.tasks.map((task) => ({
      executor: task.executor,
      enabled: task.enabled,
      params: parseObject(task.params),
    })),
    params: parseObject(doc.params),
    enabled: doc.enabled,
    pausedNote: doc.pausedNote,
    overlap: doc.overlap,
    misfire: doc.misfire,
    catchUpLimit: doc.catchUpLimit,
    misfireGraceMs: doc.misfireGraceMs,
    timeoutMs: doc.timeoutMs,
    retry: retry(doc.retry),
    autoPause: autoPause(doc.autoPause ?? null),
    jitterMs: doc.jitterMs,
    priority: doc.priority,
    activeFrom: date(doc.activeFrom),
    activeUntil: date(doc.activeUntil),
    nextRunAt: date(doc.nextRunAt),
    lastRunAt: date(doc.lastRunAt),
    lastRunId: doc.lastRunId,
    lastStatus: doc.lastStatus,
    lastError: doc.lastError,
    lastDurationMs: numberOrNull(doc.lastDurationMs),
    runCount: asNumber(doc.runCount),
    errorCount: asNumber(doc.errorCount),
    consecutiveFailures: asNumber(doc.consecutiveFailures ?? 0),
    createdAt: date(doc.createdAt) as Date,
    createdBy: doc.createdBy,
    updatedAt: date(doc.updatedAt) as Date,
    updatedBy: doc.updatedBy,
    version: asNumber(doc.version),
    metadata: parseObject(doc.metadata),
  };
}

const FROZEN_FIELDS: ReadonlySet<string> = new Set(FROZEN_JOB_FIELDS);

/** A job patch as `$set` fields: frozen and undefined fields dropped, values encoded as stored. */
export function encodeJobPatch(patch: Record<string, unknown>): Partial<JobDocument> {
  const set: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined || FROZEN_FIELDS.has(field)) continue;
    if (field === 'tasks') set.tasks = encodeJobTasks(value as JobTask[]);
    else if (field === 'params' || field === 'metadata') set[field] = json(value as JsonObject);
    else if (field === 'retry') set.retry = retry(value as RetryPolicy | null);
    else if (field === 'autoPause') set.autoPause = autoPause(value as AutoPausePolicy | null);
    else if (value instanceof Date) set[field] = new Date(value.getTime());
    else set[field] = value;
  }
  return set as Partial<JobDocument>;
}

/** The document of a new run; `activeKey` is set when it enters the `rejectIfActive` gate. */
export function encodeNewRun(run: NewRun, id: string, activeKey?: string): RunDocument {
  const doc: RunDocument = {
    _id: id,
    jobId: run.jobId,
    jobName: run.jobName,
    executor: run.executor,
    tenantId: run.tenantId,
    trigger: run.trigger,
    status: run.status,
    tasks: encodeRunTasks(run.tasks),
    scheduledFor: date(run.scheduledFor),
    runAt: date(run.runAt) as Date,
    createdAt: date(run.createdAt) as Date,
    startedAt: date(run.startedAt),
    finishedAt: date(run.finishedAt),
    durationMs: run.durationMs,
    params: json(run.params),
    result: jsonOrNull(run.result),
    error: error(run.error),
    attempt: run.attempt,
    maxAttempts: run.maxAttempts,
    parentRunId: run.parentRunId,
    triggeredBy: run.triggeredBy,
    workerId: run.workerId,
    leaseUntil: date(run.leaseUntil),
    priority: run.priority,
    overlap: run.overlap,
    concurrencyKey: run.concurrencyKey,
    dedupeKey: run.dedupeKey,
    timeoutMs: run.timeoutMs,
    cancelRequested: run.cancelRequested,
    progress: progress(run.progress),
    logs: copyLogs(run.logs),
    exclusive: run.overlap !== 'allow',
  };
  if (activeKey !== undefined) doc.activeKey = activeKey;
  return doc;
}

/** The run in a stored document (internal fields dropped). Staged documents are not runs yet. */
export function decodeRun(doc: RunDocument): Run {
  if (doc.status === 'staged') throw new Error(`run ${doc._id} is staged: it is not a run until released`);
  return {
    id: doc._id,
    jobId: doc.jobId,
    jobName: doc.jobName,
    executor: doc.executor,
    tenantId: doc.tenantId,
    trigger: doc.trigger,
    status: doc.status,
    tasks: doc.tasks.map((task) => ({
      executor: task.executor,
      status: task.status,
      params: parseObject(task.params),
      startedAt: date(task.startedAt),
      finishedAt: date(task.finishedAt),
      result: parseOrNull(task.result),
      error: error(task.error),
    })),
    scheduledFor: date(doc.scheduledFor),
    runAt: date(doc.runAt) as Date,
    createdAt: date(doc.createdAt) as Date,
    startedAt: date(doc.startedAt),
    finishedAt: date(doc.finishedAt),
    durationMs: numberOrNull(doc.durationMs),
    params: parseObject(doc.params),
    result: parseOrNull(doc.result),
    error: error(doc.error),
    attempt: doc.attempt,
    maxAttempts: doc.maxAttempts,
    parentRunId: doc.parentRunId,
    triggeredBy: doc.triggeredBy,
    workerId: doc.workerId,
    leaseUntil: date(doc.leaseUntil),
    priority: doc.priority,
    overlap: doc.overlap,
    concurrencyKey: doc.concurrencyKey,
    dedupeKey: doc.dedupeKey,
    timeoutMs: doc.timeoutMs,
    cancelRequested: doc.cancelRequested,
    progress: progress(doc.progress),
    logs: copyLogs(doc.logs),
  };
}

/** JSON text of a run result, as `finishRuns` stores it. */
export function encodeResult(result: JsonValue | null): string | null {
  return jsonOrNull(result);
}
