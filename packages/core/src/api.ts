import type { Clock } from './clock.js';
import type { Duration } from './duration.js';
import type { Executor, ExecutorDefinition, ExecutorInfo, RetryInput } from './executor.js';
import type { AuditPage, JobChange, Store } from './store.js';
import type { TelemetryOptions } from './telemetry.js';
import type { ExecutorMap, JobInputFor } from './typed-api.js';
import type {
  AutoPausePolicy,
  Job,
  JsonObject,
  MisfirePolicy,
  OverlapPolicy,
  Run,
  RunStatus,
  RunTrigger,
} from './types.js';

/** A pino-compatible logger: `(obj, msg)` or `(msg)` at each level. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

/** A task as written in a job input: an executor name, or the executor with its options. */
export type JobTaskInput = string | { executor: string; enabled?: boolean; params?: JsonObject };

/** Input of `scheduler.jobs.create` (and of `jobs.seed`); a job as read is accepted too. */
export interface JobInput extends JobReadOnlyFields {
  /** Unique per tenant. */
  name: string;
  /** Owning tenant; null or absent for a global job. */
  tenantId?: string | null;
  description?: string | null;
  /** Cron (5 or 6 fields), `@daily`-style macro, alias (`hourly`, `every_5_minutes`…) or `cron:EXPR`. */
  schedule: string;
  /** IANA zone. @default the scheduler's `timezone` */
  timezone?: string;
  /** Shorthand for a single task. Give `executor` or `tasks`, not both. */
  executor?: string;
  /** Executors run in order in one run. */
  tasks?: JobTaskInput[];
  /** Parameters for every task. @default {} */
  params?: JsonObject;
  /** @default true */
  enabled?: boolean;
  pausedNote?: string | null;
  /** @default 'skip' */
  overlap?: OverlapPolicy;
  /** @default 'once' */
  misfire?: MisfirePolicy;
  /** @default 10 */
  catchUpLimit?: number;
  /** How late a slot may still start. @default null (no bound) */
  misfireGrace?: Duration | null;
  /** @default null (the executors' own) */
  timeout?: Duration | null;
  /** @default null (the executors' own) */
  retry?: RetryInput | null;
  /**
   * Pause the job (with a note) after this many failed runs in a row; a success resets the count.
   * A failed attempt that will be retried does not count: only a run's final failure does.
   * @default null (never)
   */
  autoPause?: AutoPausePolicy | null;
  /** @default 0 */
  jitter?: Duration;
  /** Lower runs first. @default 0 */
  priority?: number;
  activeFrom?: Date | string | null;
  activeUntil?: Date | string | null;
  metadata?: JsonObject;
  /** Who created it (audit). */
  createdBy?: string | null;
  /** {@link JobInput.misfireGrace} in milliseconds, as a job is read back; give one of the two. */
  misfireGraceMs?: number | null;
  /** {@link JobInput.timeout} in milliseconds, as a job is read back; give one of the two. */
  timeoutMs?: number | null;
  /** {@link JobInput.jitter} in milliseconds, as a job is read back; give one of the two. */
  jitterMs?: number;
}

/**
 * The fields a job is read back with that no write changes. A write accepts them, so that a job
 * read with `jobs.get` (or over HTTP, dates as ISO strings) can be written back as it is: they are
 * ignored, except `version` and `id` on an update (see {@link JobsApi.update}).
 */
export interface JobReadOnlyFields {
  /** The job's id; checked on an update that gives `version`. */
  id?: string;
  /** The version read; an update that gives it is refused (`ConflictError`) if the job moved on. */
  version?: number;
  nextRunAt?: Date | string | null;
  lastRunAt?: Date | string | null;
  lastRunId?: string | null;
  lastStatus?: RunStatus | null;
  lastError?: string | null;
  lastDurationMs?: number | null;
  runCount?: number;
  errorCount?: number;
  createdAt?: Date | string;
  updatedAt?: Date | string;
  /** Who last changed it; on an update, written as given (the one making this change). */
  updatedBy?: string | null;
}

/**
 * Changes accepted by `scheduler.jobs.update`: any definition field, or a whole job as read. The
 * tenant cannot change (`tenantId` is accepted when it is the job's own); `name` renames.
 */
export type JobUpdate = Partial<Omit<JobInput, 'tenantId'>> &
  JobReadOnlyFields & { tenantId?: string | null };

/** Which tenant a call is scoped to. */
export interface TenantScope {
  /** The tenant; null or absent for global. */
  tenantId?: string | null;
}

/** Filter of `scheduler.jobs.list`. */
export interface JobListFilter {
  /** Only this tenant's jobs (null: only global ones); absent: every tenant. */
  tenantId?: string | null;
  /**
   * With `tenantId`, include global jobs too (how tenants see the list); those come without their
   * params, metadata and run outcomes (last run, last error, counts). @default false
   */
  includeGlobal?: boolean;
  enabled?: boolean;
}

/** Filter of `scheduler.runs.list`. */
export interface RunListFilter {
  /** Only this tenant's runs (null: only global ones); absent: every tenant. */
  tenantId?: string | null;
  /** With `tenantId`, include global runs too. @default false */
  includeGlobal?: boolean;
  status?: RunStatus | RunStatus[];
  /** Job name (within the tenant scope). */
  job?: string;
  executor?: string;
  trigger?: RunTrigger | RunTrigger[];
  since?: Date | string;
  until?: Date | string;
  /** @default 50, at most 500 */
  limit?: number;
  cursor?: string | null;
}

/** Input of `scheduler.trigger`: run a job or an executor now. */
export interface TriggerInput {
  /** Job name; give `job` or `executor`. */
  job?: string;
  /** Executor name, to run it outside any job. */
  executor?: string;
  /** Run parameters, merged over the job's. */
  params?: JsonObject;
  /** Who asked (audit). */
  triggeredBy?: string | null;
  tenantId?: string | null;
  /** Start even though a run of the job is running (it then runs in parallel). @default false */
  force?: boolean;
  /**
   * Called once the input is valid and the target found, just before the run is created; a throw
   * aborts the trigger. The HTTP router counts its rate limits here, so invalid requests cost nothing.
   */
  beforeCreate?: (target: TriggerTarget) => void | Promise<void>;
}

/** What {@link TriggerInput.beforeCreate} is told about the run about to be created. */
export interface TriggerTarget {
  /** The job, or null for an executor run alone. */
  job: Job | null;
  /** The executor, for a run of an executor alone; null for a job. */
  executor: string | null;
  /** Tenant of the run to be created. */
  tenantId: string | null;
}

/** Input of `scheduler.schedule`: a one-off run at a future instant. */
export interface ScheduleInput {
  job?: string;
  executor?: string;
  /** When to run; must be in the future. */
  at: Date | string;
  params?: JsonObject;
  createdBy?: string | null;
  tenantId?: string | null;
  /**
   * Called once the input is valid, the target found and the one-off caps checked, just before
   * the run is created; a throw aborts it. The HTTP router counts near-term one-offs against the
   * manual-trigger limits here.
   */
  beforeCreate?: (target: ScheduleTarget) => void | Promise<void>;
}

/** What {@link ScheduleInput.beforeCreate} is told about the one-off about to be created. */
export interface ScheduleTarget extends TriggerTarget {
  /** When it will run. */
  at: Date;
}

/** Result of `scheduler.runDue`. */
export interface RunDueResult {
  summary: { total: number; executed: number; skipped: number; failed: number };
  /** Runs that succeeded. */
  executed: Run[];
  /** Runs that failed. */
  failed: Run[];
}

/** Result of `scheduler.cleanupStale`. */
export interface CleanupStaleResult {
  /** Runs marked failed. */
  updated: number;
  /** Names of the jobs affected. */
  jobs: string[];
  /** Names of the executors affected. */
  executors: string[];
  /** Runs started before this instant were swept. */
  threshold: Date;
}

/** Result of `scheduler.prune`. */
export interface PruneResult {
  /** Finished runs deleted. */
  deleted: number;
  /** Audit entries deleted (those recorded before the threshold); 0 with `audit: false`. */
  auditDeleted: number;
  threshold: Date;
}

/** A job as `jobs.update(…, { dryRun: true })` would leave it, with its next instants. */
export type JobDryRun = Job & {
  /** The next instants it would fire at (up to 5), oldest first; empty when it would not fire. */
  next: Date[];
};

/** Filter of `scheduler.audit.list`. */
export interface AuditListFilter {
  /** Entries recorded under this job name. */
  job?: string;
  /**
   * Only this tenant's entries (null: only global ones); absent: every tenant. A tenant's trail
   * never includes global jobs' entries: they show the operator's params, metadata and actors,
   * which tenants do not see (see `jobAsSeenBy`).
   */
  tenantId?: string | null;
  /** Entries recorded at or after this instant. */
  since?: Date | string;
  /** @default 50, at most 500 */
  limit?: number;
  cursor?: string | null;
}

/** The audit trail of job changes and manual triggers. */
export interface AuditApi {
  /** Entries newest first, one page at a time. */
  list(filter?: AuditListFilter): Promise<AuditPage>;
}

/** Input of `scheduler.preview`. */
export interface PreviewInput {
  /** Any schedule a job accepts. */
  schedule: string;
  /** IANA zone. @default the scheduler's `timezone` */
  timezone?: string;
  /** Instants to compute, 1 to 100. @default 5 */
  count?: number;
  /** Compute instants strictly after this one. @default now */
  from?: Date | string;
  /** Language of `description` (`en`, `fr`, …). @default 'en' */
  locale?: string;
}

/** Result of `scheduler.preview`. */
export interface PreviewResult {
  /** The next instants, oldest first: fewer than `count` when the schedule fires fewer times before `horizon`. */
  next: Date[];
  /** The schedule in words. */
  description: string;
  /** The last instant looked at: 10 years past `from`. Later instants are not computed. */
  horizon: Date;
}

/** Input of `scheduler.backfill`. */
export interface BackfillInput {
  /** The job whose past slots get runs. */
  job: string;
  tenantId?: string | null;
  /** First instant of the range (included); at most 366 days ago. */
  from: Date | string;
  /** End of the range (excluded); at most now. */
  to: Date | string;
  /**
   * The most slots the range may hold, 1 to 1000: a range holding more is refused with a
   * `ValidationError` (nothing created), so a mistyped range never floods the queue. @default 100
   */
  limit?: number;
  /** Who asked, recorded as each run's `triggeredBy`. */
  triggeredBy?: string | null;
  /**
   * Called once the range is valid, its slots counted and the one-off caps checked, just before
   * the runs are created; a throw aborts the backfill. The HTTP router counts its rate limits here,
   * so a refused backfill costs nothing.
   */
  beforeCreate?: (target: BackfillTarget) => void | Promise<void>;
}

/** What {@link BackfillInput.beforeCreate} is told about the runs about to be created. */
export interface BackfillTarget extends TriggerTarget {
  /** The slots that get a run unless one exists already, oldest first. */
  slots: Date[];
}

/** Result of `scheduler.backfill`. */
export interface BackfillResult {
  /** Runs created, one per slot that had none, oldest slot first. */
  created: Run[];
  /** Slots that already had a run (fired, or backfilled before) and were left alone. */
  skipped: number;
}

/** Options of `scheduler.health`. */
export interface HealthOptions {
  /** How long the store may take to answer before it counts as unreachable. @default '2s' */
  timeout?: Duration;
  /** When set, `ok` is also false while the oldest due slot is later than this. @default null */
  maxLag?: Duration | null;
}

/** Result of `scheduler.health`: what a liveness probe or an uptime check reads. */
export interface HealthReport {
  /**
   * True when the store answered within `timeout`, the loop (if `start()` was called and `stop()`
   * was not) completed a tick within `loop.maxTickAgeMs`, and, with `maxLag`, the oldest due slot
   * is not later than that.
   */
  ok: boolean;
  /** When the check ran. */
  checkedAt: Date;
  loop: {
    /** `start()` was called and `stop()` was not. */
    started: boolean;
    /** Started and ticking: the last tick completed within `maxTickAgeMs`. False when not started. */
    alive: boolean;
    /** When the last tick completed; null before the first. */
    lastTickAt: Date | null;
    /** How old a last tick may be for the loop to count as alive: 3 poll intervals + 30 s. */
    maxTickAgeMs: number;
  };
  store: {
    /** The store answered within the timeout. */
    reachable: boolean;
    /** How long it took, ms (the timeout when it did not answer). */
    latencyMs: number;
    /** Why it is unreachable; null when reachable. */
    error: string | null;
  };
  /** now − the `nextRunAt` of the most overdue enabled job, ms; 0 when nothing is due; null if the store did not answer. */
  oldestDueLagMs: number | null;
  /** Running runs whose lease lapsed and that no instance recovered yet (at most 100 counted); null if the store did not answer. */
  stuckRuns: number | null;
}

/** Payload of `job:auto-paused`. */
export interface JobAutoPausedEvent {
  /** The job, as paused. */
  job: Job;
  /** The failed run that paused it. */
  run: Run;
  /** Failed runs in a row that paused it. */
  failures: number;
  origin: string;
}

/** One day of the stats timeline. */
export interface TimelineDay {
  date: string;
  succeeded: number;
  failed: number;
  cancelled: number;
  skipped: number;
}

/** Result of `scheduler.stats`. */
export interface SchedulerStats {
  /** Runs finished in the last 24 h (succeeded, failed, cancelled). */
  executions24h: number;
  /** Runs running now. */
  running: number;
  /** Runs failed in the last 24 h. */
  failures24h: number;
  /** succeeded / (succeeded + failed) over the last 24 h, 0..1; null with no such run. */
  successRate: number | null;
  /** The next scheduled slot of any enabled job. */
  nextRunAt: Date | null;
  /** One entry per day, oldest first. */
  timeline: TimelineDay[];
}

/** Last-run digest shown on dashboards. */
export interface LastRunView {
  id: string;
  status: RunStatus;
  at: Date | null;
  durationMs: number | null;
  error: string | null;
}

/** Result of `scheduler.dashboard`. */
export interface Dashboard {
  jobs: Array<{
    name: string;
    tenantId: string | null;
    description: string | null;
    schedule: string;
    /** The schedule in words. */
    describe: string;
    timezone: string;
    enabled: boolean;
    pausedNote: string | null;
    /** `running` while a run is running, else the last run's status, else `idle`. */
    status: RunStatus | 'idle';
    lastRun: LastRunView | null;
    nextRunAt: Date | null;
    runCount: number;
    errorCount: number;
    executors: string[];
  }>;
  executors: Array<{
    name: string;
    description: string | null;
    status: RunStatus | 'idle';
    lastRun: LastRunView | null;
    runCount: number;
    errorCount: number;
  }>;
}

/** Payload of every `run:*` event. */
export interface RunEvent {
  run: Run;
  /** Instance that made the change (differs from `scheduler.instanceId` for remote events). */
  origin: string;
}

/** Payload of `job:changed`. */
export interface JobEvent {
  change: JobChange;
  jobId: string;
  name: string;
  tenantId: string | null;
  /** The job after the change; null when deleted. */
  job: Job | null;
  origin: string;
}

/** Payload of `scheduler:error`: a failure in background work (the loop), never in a call. */
export interface SchedulerErrorEvent {
  error: Error;
  /** What the loop was doing. */
  operation: string;
}

/** Events emitted by a scheduler. */
export interface SchedulerEvents {
  'run:created': (event: RunEvent) => void;
  'run:started': (event: RunEvent) => void;
  'run:succeeded': (event: RunEvent) => void;
  'run:failed': (event: RunEvent) => void;
  'run:cancelled': (event: RunEvent) => void;
  'run:skipped': (event: RunEvent) => void;
  'job:changed': (event: JobEvent) => void;
  /** A job's runs kept failing and `autoPause` paused it: emitted once, by the instance whose finish paused it. */
  'job:auto-paused': (event: JobAutoPausedEvent) => void;
  'scheduler:error': (event: SchedulerErrorEvent) => void;
}

/** Options of `createScheduler`; `E` is the executors given, by name. */
export interface SchedulerOptions<E extends ExecutorMap = ExecutorMap> {
  /** Where jobs and runs live. */
  store: Store;
  /**
   * Executors to register, by name. Given as an object literal, their names and params types are
   * checked by the compiler in `jobs.create`, `trigger` and `schedule` (see `TypedScheduler`). @default {}
   */
  executors?: E & ExecutorMap;
  /** Default IANA zone of jobs. @default 'UTC' */
  timezone?: string;
  /**
   * Runs executed at once by this instance. Lower it for executors heavy on CPU or memory. @default 50
   */
  concurrency?: number;
  /** Longest sleep between looks at the store (wake-ups and exact due times come sooner). @default '1s' */
  pollInterval?: Duration;
  /** Lease of a running run; renewed every third of it. A dead worker's run is recovered after it lapses. @default '10s' */
  lease?: Duration;
  /** Default age of finished runs removed by `prune` and the built-in prune job. @default '30d' */
  retention?: Duration;
  /** Default threshold of `cleanupStale` and the built-in sweep. @default '3d' */
  staleAfter?: Duration;
  /** Where log lines go; any pino-compatible logger, `consoleLogger({ level: 'warn' })` to drop per-run info lines, or `false`. @default consoleLogger(): console lines with [CRON]/[SCHEDULED]/[MANUAL] prefixes, info and up */
  logger?: Logger | false;
  /** Source of time. @default the system clock */
  clock?: Clock;
  /**
   * Source of randomness, a number in [0, 1) per call: draws each slot's `jitter` delay (the
   * delay is `random() × jitter`) and where this instance starts walking a burst of due jobs.
   * Pass a fixed sequence in tests to pin jittered start times. @default Math.random
   */
  random?: () => number;
  /** This instance's id, recorded as `workerId`. @default host-pid-random */
  instanceId?: string;
  /** Job definitions seeded (never overwritten) by `start()`, and by `jobs.seed()` with no argument. @default [] */
  jobs?: JobInputFor<E>[];
  /** `jobs.seed()` with no argument also installs the maintenance jobs (stale sweep 02:00 UTC, prune 03:00 UTC). @default true */
  maintenanceJobs?: boolean;
  /** Log lines kept per run. @default 200 */
  maxLogLines?: number;
  /**
   * Caps on the pending runs a tenant's one-offs may pile up: `schedule()` for a tenant is refused
   * with `ConflictError` when the job (or the executor, for a run of an executor alone) already has
   * `perJob` pending runs, or the tenant `perTenant`. Global one-offs (no tenant) are the host's
   * own and are not capped. `false` lifts a cap. @default { perJob: 100, perTenant: 1000 }
   */
  oneOffLimits?: { perJob?: number | false; perTenant?: number | false };
  /**
   * Caps on a tenant's jobs (global jobs are the host's own and are not capped), checked on
   * create, update and seed: `maxJobs` jobs per tenant (over it, `ConflictError`, like the one-off
   * caps); `minInterval`, the smallest gap between two consecutive slots of a schedule, checked over
   * its next 100 slots, and `maxRetries`, the largest `retry.limit` (over them, `ValidationError`
   * naming `schedule` or `retry.limit`). `false` lifts a cap.
   * @default { maxJobs: 1000, minInterval: '1m', maxRetries: 10 }
   */
  tenantLimits?: { maxJobs?: number | false; minInterval?: Duration | false; maxRetries?: number | false };
  /**
   * Metrics and traces through OpenTelemetry: a tracer and/or meter, or `false` for none.
   * @default the global tracer and meter of `@opentelemetry/api` when that optional peer is installed
   */
  telemetry?: TelemetryOptions | false;
}

/** Job administration. */
export interface JobsApi {
  create(input: JobInput): Promise<Job>;
  /**
   * Rejects with `NotFoundError` when there is no such job in the tenant. With `includeGlobal`, a
   * tenant falls back to the global job of that name, seen as a tenant may see it (no params,
   * metadata or run outcomes).
   */
  get(name: string, scope?: TenantScope & { includeGlobal?: boolean }): Promise<Job>;
  list(filter?: JobListFilter): Promise<Job[]>;
  /**
   * Change the fields given (a whole job as read is accepted: read-only fields are ignored).
   * Recomputes `nextRunAt` when the schedule, zone or active window changes. With `version`, the
   * update applies only to that version of the job (and, with `id`, to that job): if it changed
   * since it was read, or changes meanwhile, it rejects with `ConflictError` and changes nothing.
   * Without `version`, concurrent updates are retried and the last one wins. With `dryRun: true`,
   * validates the same way (a stale `version` included) and returns the job as it would be, with
   * its next instants, writing nothing (and recording no audit entry).
   */
  update(name: string, patch: JobUpdate, options?: TenantScope & { dryRun?: false }): Promise<Job>;
  update(name: string, patch: JobUpdate, options: TenantScope & { dryRun: true }): Promise<JobDryRun>;
  update(
    name: string,
    patch: JobUpdate,
    options?: TenantScope & { dryRun?: boolean },
  ): Promise<Job | JobDryRun>;
  /** Deletes the job and cancels its pending runs; running runs finish. `by` is recorded in the audit trail. */
  delete(name: string, scope?: TenantScope & { by?: string | null }): Promise<void>;
  /** Disable the job with a note; `by` is recorded in the audit trail. */
  pause(name: string, note?: string | null, scope?: TenantScope & { by?: string | null }): Promise<Job>;
  /** Enable it again (and reset its `autoPause` count); `by` and `note` are recorded in the audit trail. */
  resume(name: string, scope?: TenantScope & { by?: string | null; note?: string | null }): Promise<Job>;
  /**
   * Create the given jobs (default: the scheduler's `jobs` option plus the maintenance jobs), up to
   * 200 000 per call, written in chunks: an import of many jobs is a few round trips. Everything
   * is validated first, so a bad entry (named as `jobs.3.schedule`) writes nothing. Existing ones
   * are left alone (`unchanged`) unless `overwrite`. Idempotent, also when instances seed the same
   * jobs at once: each job is created by exactly one of them.
   */
  seed(
    inputs?: JobInput[],
    options?: { overwrite?: boolean },
  ): Promise<{ created: string[]; updated: string[]; unchanged: string[] }>;
}

/** Run history. */
export interface RunsApi {
  /** Rejects with `NotFoundError` when there is no such run (in the tenant, when given). */
  get(id: string, scope?: TenantScope & { includeGlobal?: boolean }): Promise<Run>;
  list(filter?: RunListFilter): Promise<{ items: Run[]; nextCursor: string | null }>;
}

/** The scheduler a host app creates once and shares. */
export interface Scheduler {
  /** This instance's id. */
  readonly instanceId: string;
  /** The store it runs on. */
  readonly store: Store;
  /** Init the store, seed the `jobs` option (without overwriting), start the loop. */
  start(): Promise<void>;
  /** Stop claiming; let running runs end within `grace`, then abort them. @default grace '30s' */
  stop(options?: { grace?: Duration }): Promise<void>;
  /** Add an executor to the registry. Rejects a name already registered. */
  register<P, I>(name: string, executor: Executor<P, I> | ExecutorDefinition<P, I>): void;
  /** The registry. */
  executors(): ExecutorInfo[];
  jobs: JobsApi;
  runs: RunsApi;
  /** Who created, changed, paused, deleted or triggered what (retention follows `prune`). */
  audit: AuditApi;
  /** Run now: a pending run due now. `ConflictError` if the job is running (unless `force`). */
  trigger(input: TriggerInput): Promise<Run>;
  /** One-off at a future instant. `ConflictError` when a tenant is over the `oneOffLimits` caps. */
  schedule(input: ScheduleInput): Promise<Run>;
  /**
   * Many one-offs in one call (up to 100 000), written in chunks: the runs, in input order. Each
   * input is checked as the single form checks it (a `ValidationError` names it, e.g.
   * `runs.3.at`), the caps count the whole batch, and every `beforeCreate` runs; any refusal
   * creates none of them.
   */
  schedule(inputs: readonly ScheduleInput[]): Promise<Run[]>;
  /** Cancel a pending run, or ask a running one to stop. `ConflictError` if it already ended. */
  cancel(runId: string, options?: { by?: string | null; tenantId?: string | null }): Promise<Run>;
  /** Fire every due slot and execute every due run, waiting for them; heartbeat/serverless mode. */
  runDue(options?: { limit?: number }): Promise<RunDueResult>;
  /**
   * The stale-run sweep: running runs started before the threshold become failed; with `tenantId`, only that
   * tenant's runs (null: only global ones). @default olderThan the `staleAfter` option
   */
  cleanupStale(options?: { olderThan?: Duration; tenantId?: string | null }): Promise<CleanupStaleResult>;
  /**
   * Remove finished runs and audit entries older than the threshold; pending and running runs are
   * never pruned. `audit: false` keeps the audit entries (what a tenant's prune does, so a tenant
   * cannot erase the record of its own changes).
   */
  prune(options?: { olderThan?: Duration; tenantId?: string | null; audit?: boolean }): Promise<PruneResult>;
  /**
   * KPIs and the per-day timeline; with `tenantId`, from that tenant's own runs and jobs only.
   * `since` must fall within the last 366 days, like `days`. @default days 7
   */
  stats(options?: {
    since?: Date | string;
    tenantId?: string | null;
    days?: number;
  }): Promise<SchedulerStats>;
  /**
   * Per-job and per-executor view; `locale` (`en`, `fr`, …) for the schedules in words. With
   * `tenantId`: that tenant's jobs and the global ones (without their run outcomes), and figures
   * from the tenant's own runs only.
   */
  dashboard(options?: { tenantId?: string | null; locale?: string }): Promise<Dashboard>;
  /** Re-read jobs and wake every instance (after changes made outside the scheduler). */
  reload(): Promise<void>;
  /** The next instants of a schedule and its description; an invalid one is a `ValidationError`. */
  preview(input: PreviewInput): Promise<PreviewResult>;
  /** One run (trigger `backfill`) per slot of the job in `[from, to)` that has no run yet. */
  backfill(input: BackfillInput): Promise<BackfillResult>;
  /** Loop, store, lag and stuck runs, for liveness probes; a failing store is reported, not thrown (bad options are a `ValidationError`). */
  health(options?: HealthOptions): Promise<HealthReport>;
  /** What this instance counted (runs, durations, lag, missed and skipped slots, recoveries) and the queue depth, as Prometheus text. */
  prometheusMetrics(): Promise<string>;
  on<E extends keyof SchedulerEvents>(event: E, listener: SchedulerEvents[E]): this;
  off<E extends keyof SchedulerEvents>(event: E, listener: SchedulerEvents[E]): this;
  once<E extends keyof SchedulerEvents>(event: E, listener: SchedulerEvents[E]): this;
}
