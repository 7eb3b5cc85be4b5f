/** JSON-compatible value, the only kind that crosses the store and the HTTP API. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object: executor parameters, results and free metadata. */
export type JsonObject = { [key: string]: JsonValue };

/** What to do with a slot that comes due while a run of the same job is running. */
export type OverlapPolicy = 'skip' | 'queue' | 'allow';

/** What to do with slots missed while no instance was running. */
export type MisfirePolicy = 'once' | 'skip' | 'all';

/** What started a run. */
export type RunTrigger = 'schedule' | 'manual' | 'once' | 'retry' | 'backfill';

/** Every trigger, in the order listings show them. */
export const RUN_TRIGGERS: readonly RunTrigger[] = ['schedule', 'manual', 'once', 'retry', 'backfill'];

/** Where a run is in its lifecycle: `pending` → `running` → a terminal state. */
export type RunStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';

/** The statuses a run never leaves. */
export const TERMINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'skipped'];

/** True when `status` is one a run never leaves. */
export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Backoff between retries; `delay` and `max` are milliseconds. */
export interface RetryBackoff {
  /** `fixed` waits `delay` each time; `exponential` doubles it per attempt up to `max`. */
  type: 'fixed' | 'exponential';
  /** First (or every) wait, in ms. */
  delay: number;
  /** Longest wait, in ms (exponential only); null for no cap. */
  max: number | null;
}

/** How often a failed run is tried again: `limit` 2 means at most 3 runs in all. */
export interface RetryPolicy {
  /** Extra attempts after the first. */
  limit: number;
  /** Wait before each extra attempt. */
  backoff: RetryBackoff;
}

/** Pause a job by itself once its runs keep failing. */
export interface AutoPausePolicy {
  /** Failed runs in a row (a success resets the count) after which the job is paused. */
  afterFailures: number;
}

/** One step of a job: an executor with its own parameters, run in order with the others. */
export interface JobTask {
  /** Name of a registered executor. */
  executor: string;
  /** Disabled tasks are recorded as skipped and not run. */
  enabled: boolean;
  /** Parameters merged over the job's params for this task. */
  params: JsonObject;
}

/** A stored schedule binding: when to run which executors, with which policies. */
export interface Job {
  /** Store-assigned id, stable across renames. */
  id: string;
  /** Unique per tenant. */
  name: string;
  /** Owning tenant; null for a global job. */
  tenantId: string | null;
  /** Free text shown on dashboards. */
  description: string | null;
  /** The schedule as written: cron, macro, alias or `cron:` prefixed. */
  schedule: string;
  /** IANA time zone the schedule is evaluated in. */
  timezone: string;
  /** Executors run in order in each run. */
  tasks: JobTask[];
  /** Parameters given to every task (task params win). */
  params: JsonObject;
  /** Disabled jobs fire no slots; manual triggers still work. */
  enabled: boolean;
  /** Why the job was paused, shown on dashboards. */
  pausedNote: string | null;
  /** See {@link OverlapPolicy}. */
  overlap: OverlapPolicy;
  /** See {@link MisfirePolicy}. */
  misfire: MisfirePolicy;
  /** With misfire `all`, the most slots run after downtime. */
  catchUpLimit: number;
  /** How late (ms) a slot may still start; null for no bound. */
  misfireGraceMs: number | null;
  /** Per-run timeout in ms; null uses the executors' own. */
  timeoutMs: number | null;
  /** Retry policy; null uses the executors' own. */
  retry: RetryPolicy | null;
  /** Pause the job after this many failed runs in a row; null never pauses it. */
  autoPause: AutoPausePolicy | null;
  /** Random delay (0..jitterMs) added to each slot's start, to spread load. */
  jitterMs: number;
  /** Lower numbers are claimed first. */
  priority: number;
  /** No slot fires before this instant. */
  activeFrom: Date | null;
  /** No slot fires after this instant. */
  activeUntil: Date | null;
  /** The next slot to fire; null when the job will not fire again. */
  nextRunAt: Date | null;
  /** When the last run of this job started. */
  lastRunAt: Date | null;
  /** Id of the last finished run. */
  lastRunId: string | null;
  /** Status of the last finished run. */
  lastStatus: RunStatus | null;
  /** Error message of the last failed run; cleared by a success. */
  lastError: string | null;
  /** Duration of the last finished run, ms. */
  lastDurationMs: number | null;
  /** Runs finished (any terminal state but skipped). */
  runCount: number;
  /** Runs that failed. */
  errorCount: number;
  /**
   * Failed runs since the last success, as `autoPause` counts them: a run's final failure only (an
   * attempt followed by a retry does not count), cancelled and skipped runs leave it as it is.
   */
  consecutiveFailures: number;
  /** When the job was created. */
  createdAt: Date;
  /** Who created it (from the router's `actor`). */
  createdBy: string | null;
  /** When its definition last changed. */
  updatedAt: Date;
  /** Who last changed it. */
  updatedBy: string | null;
  /** Incremented on every definition change; used for compare-and-set updates. */
  version: number;
  /** Free data for the host app. */
  metadata: JsonObject;
}

/** Outcome of one task inside a run. */
export interface RunTask {
  /** Executor name. */
  executor: string;
  /** `pending` until reached; `skipped` when disabled or after an earlier task failed. */
  status: RunStatus;
  /** Parameters the task ran with (after merging). */
  params: JsonObject;
  /** When the task started. */
  startedAt: Date | null;
  /** When it ended. */
  finishedAt: Date | null;
  /** Its return value, if JSON. */
  result: JsonValue | null;
  /** Why it failed. */
  error: RunError | null;
}

/** A failure recorded on a run; `code` is stable (`error`, `timeout`, `stale`, `cancelled`, …). */
export interface RunError {
  /** `error` (thrown), `timeout`, `stale` (lease lapsed), `shutdown`, `unknown_executor`, `invalid_params`. */
  code: string;
  /** Human-readable message. */
  message: string;
}

/** One line an executor logged during a run. */
export interface RunLogLine {
  /** When it was logged. */
  at: Date;
  /** Severity. */
  level: 'debug' | 'info' | 'warn' | 'error';
  /** The text. */
  message: string;
}

/** Last progress an executor reported. */
export interface RunProgress {
  /** 0..100. */
  percent: number;
  /** Optional note. */
  note: string | null;
}

/** One execution, whatever started it: one queue, one lifecycle, one history. */
export interface Run {
  /** Store-assigned id. */
  id: string;
  /** The job it belongs to; null for a run of an executor alone. */
  jobId: string | null;
  /** Job name at creation time (kept when the job is deleted). */
  jobName: string | null;
  /** Executor of the first task; used for per-executor views and filters. */
  executor: string;
  /** Tenant the run belongs to; null for global. */
  tenantId: string | null;
  /** What started it. */
  trigger: RunTrigger;
  /** Where it is in its lifecycle. */
  status: RunStatus;
  /** The tasks to run, with their outcome. */
  tasks: RunTask[];
  /** The cron slot this run is for (schedule runs and their retries). */
  scheduledFor: Date | null;
  /** Earliest instant it may start. */
  runAt: Date;
  /** When it was created. */
  createdAt: Date;
  /** When a worker claimed it. */
  startedAt: Date | null;
  /** When it reached a terminal state. */
  finishedAt: Date | null;
  /** finishedAt − startedAt, ms. */
  durationMs: number | null;
  /** Run-level parameters (merged over job params). */
  params: JsonObject;
  /** The last task's return value. */
  result: JsonValue | null;
  /** Why it failed or was cancelled. */
  error: RunError | null;
  /** 1 for the first attempt. */
  attempt: number;
  /** Attempts allowed in all (1 + retry limit), fixed when the run is created. */
  maxAttempts: number;
  /** The run this one retries. */
  parentRunId: string | null;
  /** Who triggered, scheduled or cancelled it. */
  triggeredBy: string | null;
  /** Instance holding it while running. */
  workerId: string | null;
  /** The lease expires at this instant unless renewed. */
  leaseUntil: Date | null;
  /** Lower numbers are claimed first. */
  priority: number;
  /** Overlap policy copied from the job (or `queue` / `allow` for manual runs). */
  overlap: OverlapPolicy;
  /** Runs sharing a key obey the overlap rules together: `job:<id>`, or `executor:<tenant>:<name>` (`executor:[tenant, name]` as JSON when a name holds a colon). */
  concurrencyKey: string;
  /** Unique among runs when set: `slot:<jobId>:<iso>` makes a slot fire once. */
  dedupeKey: string | null;
  /** Timeout of the whole run, ms; null for none. */
  timeoutMs: number | null;
  /** Set when a cancel was asked of a running run; its worker aborts it. */
  cancelRequested: boolean;
  /** Last progress reported. */
  progress: RunProgress | null;
  /** Lines the executors logged (capped). */
  logs: RunLogLine[];
}

/** What an audit entry records. */
export type AuditAction = 'created' | 'updated' | 'paused' | 'resumed' | 'deleted' | 'seeded' | 'triggered';

/** One change to a job (or one manual trigger), as the audit trail keeps it. */
export interface AuditEntry {
  /** Store-assigned id. */
  id: string;
  /** When the change was made. */
  at: Date;
  /** Who made it (`createdBy`, `updatedBy`, `triggeredBy` or `by`); null when unknown or automatic. */
  actor: string | null;
  /** What was done. */
  action: AuditAction;
  /** The job's name (after the change, for a rename); null for a trigger of an executor alone. */
  job: string | null;
  /** The job's tenant; null for global. */
  tenantId: string | null;
  /** The changed fields before the change (null for a creation or a trigger). */
  before: JsonObject | null;
  /** The changed fields after it (null for a deletion); for a trigger, the run it created. */
  after: JsonObject | null;
  /** Why: the pause note, or the note given on resume. */
  note: string | null;
}
