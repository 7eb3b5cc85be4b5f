import type {
  AuditEntry,
  Job,
  JsonValue,
  Run,
  RunError,
  RunLogLine,
  RunProgress,
  RunStatus,
  RunTask,
} from './types.js';

/**
 * The Store is the only thing a storage adapter implements. It speaks records, not schedules:
 * core computes slots, next times and retry delays; the store makes each lifecycle step atomic.
 *
 * Rules every adapter keeps (checked by `runStoreContract` in `@cronkeeper/core/contract`):
 * 1. A slot fires once: runs with the same `dedupeKey` are never created twice.
 * 2. A run is claimed once: `pending` → `running` happens for at most one worker.
 * 3. Exclusive runs stay exclusive: among runs sharing a `concurrencyKey` whose `overlap` is not
 *    `allow`, at most one is `running` at any time, across every instance.
 * 4. Finishing is fenced: only the lease holder finishes a run; once recovered, the old worker's
 *    finish is refused.
 * 5. Nothing is lost: pruning never removes `pending` or `running` runs. A run that ends (finished,
 *    cancelled, skipped, recovered, swept) leaves no task `pending` or `running`: each such task
 *    takes the run's status, unless `finishRuns` was given the final tasks.
 * 6. Cost follows the due work: due jobs and claimable runs are found through an index on time.
 *
 * Every time-dependent method takes `now` from core, so one injectable clock drives everything and
 * the contract suite runs in fake time. Stores never read their own clock for lifecycle decisions.
 *
 * A store returns fresh objects (never its internal state) and rejects with an Error when the
 * backend fails; core wraps such failures in `StoreError`.
 *
 * Audit trail: the job writes (`insertJob`, `updateJob`, `deleteJob`) and `createRun` take an
 * optional `audit` entry, which the store records in the same atomic step as the change, so that
 * an entry exists exactly when its change happened (memory: one synchronous step; PostgreSQL:
 * the same statement; Redis: the same script; MongoDB, which has no multi-document atomic write
 * here: the entry rides in the changed document and is copied out afterwards, an interrupted copy
 * being finished by any instance's next lease recovery — see the adapter's documentation).
 * `finishRuns` records the `paused` entry of an automatic pause the same way.
 */
export interface Store extends SchedulingStore, AdminStore {
  /** Optional features; the contract suite skips a group by capability, never by adapter name. */
  readonly capabilities: StoreCapabilities;
  /** Create tables, indexes or scripts. Idempotent and safe when several instances call it at once. */
  init(): Promise<void>;
  /** Release what the store itself opened (never a client the user passed in). */
  close(): Promise<void>;
  /**
   * Broadcast events, in order, to every instance's `subscribe` listeners (including this one's).
   * Core hands over what happened since its last publish in one call, so a store can carry the
   * batch in one message or statement. Present when `capabilities.subscribe` is true.
   */
  publish?(events: readonly StoreEvent[]): Promise<void>;
  /**
   * Listen for events published by any instance. Resolves once listening; the returned function
   * stops it. A dropped connection is re-established by the adapter; core keeps polling meanwhile.
   */
  subscribe?(listener: (event: StoreEvent) => void): Promise<() => Promise<void>>;
}

/** Optional features of a store, declared as data. */
export interface StoreCapabilities {
  /** `publish` / `subscribe` are implemented, so instances wake each other without polling. */
  subscribe: boolean;
  /**
   * Given `announceAs`, `createRun` publishes the created run's `run` event itself, in the same
   * step as the insert, so other instances hear of a new run one round trip sooner; core then
   * does not publish it again. Absent means false.
   */
  announcesCreatedRuns?: boolean;
  /**
   * Given `announceAs`, `finishRuns` and `finishAndClaim` publish each finished run's `run` event
   * themselves, in the same step as the finish, so a finish costs no publish of its own; core
   * then does not publish it again. Absent means false.
   */
  announcesFinishedRuns?: boolean;
}

/** Cross-instance notification: something became due, a run or job changed, or a running run should stop. */
export type StoreEvent =
  | { type: 'wake'; origin: string }
  | { type: 'run'; origin: string; runId: string; status: RunStatus; tenantId: string | null }
  | { type: 'cancel'; origin: string; runId: string; by?: string | null }
  | { type: 'job'; origin: string; jobId: string; name: string; tenantId: string | null; change: JobChange };

/** How a job changed, for `job:changed` events. */
export type JobChange = 'created' | 'updated' | 'deleted' | 'paused' | 'resumed';

/** A run as core creates it; the store assigns `id`. */
export type NewRun = Omit<Run, 'id'>;

/** A job as core creates it; the store assigns `id` and sets `version` to 1. */
export type NewJob = Omit<Job, 'id' | 'version'>;

/** An audit entry as core hands it over; the store assigns `id`. */
export type NewAuditEntry = Omit<AuditEntry, 'id'>;

/**
 * A run `finishRuns` finished. `pausedJob` is present (true) only on the run whose final failure
 * made the store pause its job (`autoPause`): exactly one finish, across every instance, gets it
 * for one pause, so the `job:auto-paused` event is emitted once.
 */
export type FinishedRun = Run & { pausedJob?: true };

/**
 * Text in Unicode code point order, which is UTF-8 byte order: how PostgreSQL's `"C"` collation and
 * MongoDB compare strings. JavaScript's `<` compares UTF-16 units instead, which puts characters
 * from U+10000 up (emoji) before U+E000–U+FFFF; a store that sorts in JavaScript uses this, so every
 * store lists in one order.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    let x = a.charCodeAt(index);
    let y = b.charCodeAt(index);
    if (x === y) continue;
    // Surrogates (U+D800–U+DFFF) stand for code points above U+FFFF: move them above U+E000–U+FFFF.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** The order of `listJobs`: by name, then global before tenants, then by tenant, in code point order. */
export function byNameThenTenant(
  a: Pick<Job, 'name' | 'tenantId'>,
  b: Pick<Job, 'name' | 'tenantId'>,
): number {
  if (a.name !== b.name) return compareCodePoints(a.name, b.name);
  if (a.tenantId === b.tenantId) return 0;
  if (a.tenantId === null) return -1;
  if (b.tenantId === null) return 1;
  return compareCodePoints(a.tenantId, b.tenantId);
}

/** The `pausedNote` (and audit note) a store writes when it pauses a job after `failures` failed runs. */
export function autoPauseNote(failures: number): string {
  return `paused automatically after ${failures} failed runs in a row`;
}

/** The `paused` audit entry a store records when `finishRuns` pauses `job` (as it was before). */
export function autoPauseAuditEntry(
  job: Pick<Job, 'name' | 'tenantId' | 'pausedNote'>,
  failures: number,
  now: Date,
): NewAuditEntry {
  const note = autoPauseNote(failures);
  return {
    at: now,
    actor: null,
    action: 'paused',
    job: job.name,
    tenantId: job.tenantId,
    before: { enabled: true, pausedNote: job.pausedNote },
    after: { enabled: false, pausedNote: note },
    note,
  };
}

/**
 * Job fields that `updateJob` never writes, whatever a patch holds at run time: identity, creation
 * and the bookkeeping that only `finishRuns` moves. (`updatedAt` is set from `now`.)
 */
export const FROZEN_JOB_FIELDS = [
  'id',
  'version',
  'createdAt',
  'createdBy',
  'lastRunAt',
  'lastRunId',
  'runCount',
  'errorCount',
] as const;

/** Definition fields (and `nextRunAt`) that `updateJob` may change. */
export type JobPatch = Partial<Omit<Job, (typeof FROZEN_JOB_FIELDS)[number]>>;

/** Filter on tenants: the ids to include, `null` meaning global. Absent means every tenant. */
export type TenantIds = readonly (string | null)[];

/** The claim path: fire slots, create runs, claim, renew, finish, recover. Kept small and hot. */
export interface SchedulingStore {
  /**
   * Enabled jobs whose `nextRunAt <= now`, earliest first, at most `limit`.
   * Several instances may read the same jobs; `fireSlots` decides which of them fires each.
   */
  findDueJobs(query: { now: Date; limit: number }): Promise<Job[]>;

  /**
   * The earliest instant strictly after `now` at which an enabled job's `nextRunAt` or a pending
   * run's `runAt` falls, or null if there is none. Core sleeps until then (capped by its poll).
   */
  nextWakeAt(query: { now: Date }): Promise<Date | null>;

  /**
   * Fire the due slots of several jobs (one input per job), returning one result per input, in
   * order. For each input: create its `runs` (each carries a `dedupeKey`), then advance the job's
   * `nextRunAt` to `nextRunAt` only if it still equals `expectedNextRunAt`.
   *
   * Concurrency: any number of instances may fire the same job and slot at once. The runs are
   * created once (a run whose `dedupeKey` exists is not created again) and `nextRunAt` advances
   * once. A losing caller gets `{ advanced: false, created: [] }` for that job; a caller may also
   * give up at once on a job another caller is firing at that moment, since that one will finish.
   * Each job's firing is atomic on its own; the batch need not be (a burst of due jobs is fired in
   * one round trip where the backend allows, which is the reason this takes many).
   * Crash safety: stores with transactions do both steps of a job in one; others create the runs
   * first and then compare-and-set, so a crash in between is repaired by the next caller (same
   * dedupe keys). If a job no longer exists or its `nextRunAt` moved, stores with transactions
   * create nothing for it.
   */
  fireSlots(inputs: FireSlotInput[]): Promise<FireSlotResult[]>;

  /**
   * `fireSlots(firings)` and then `claimRuns(claim)`, in one round trip where the backend allows:
   * how an instance with free slots starts the runs of a burst of due jobs without a second call.
   * The firings have exactly the semantics of `fireSlots` and the claim exactly those of
   * `claimRuns` (it may claim any due run, not only the ones just fired); the claim sees the
   * firings, so a run this call created can be claimed by it. The two steps need not be one atomic
   * step: each is atomic on its own, as in separate calls.
   */
  fireAndClaim(input: FireAndClaimInput): Promise<FireAndClaimResult>;

  /**
   * Create one run (manual, one-off or retry).
   *
   * - If `run.dedupeKey` is set and a run with that key exists, nothing is created and the
   *   existing run is returned with `reason: 'duplicate'`.
   * - If `rejectIfActive` is true and a run with the same `concurrencyKey` is `running`, or is
   *   `pending` with `runAt <= now`, nothing is created and that run is returned with
   *   `reason: 'active'`. The check and the insert are atomic: of N concurrent callers exactly one
   *   creates its run.
   */
  createRun(input: CreateRunInput): Promise<CreateRunResult>;

  /**
   * Create many runs (one-offs in bulk): one result per input, in input order, each what
   * `createRun` would have answered for it alone. A `dedupeKey` repeated within the call creates
   * one run; the later inputs get that run back as `duplicate`. `announceAs` is not used: the
   * caller publishes the batch's events itself.
   *
   * Written in chunks, one round trip per chunk where the backend allows (inputs with
   * `rejectIfActive` or `audit` may go one at a time, as `createRun`). Each run's creation is
   * atomic on its own; the batch is not: a failure part-way leaves the earlier chunks created, so a
   * caller wanting all-or-nothing validates everything before calling (as core does).
   */
  createRuns(inputs: CreateRunInput[]): Promise<CreateRunResult[]>;

  /**
   * Claim up to `limit` pending runs with `runAt <= now`, ordered by `priority` (ascending), then
   * `runAt`, then `createdAt`: each becomes `running` with `workerId`, `startedAt = now`,
   * `leaseUntil = now + leaseMs`.
   *
   * Overlap, for runs whose `overlap` is not `allow`: if another such run with the same
   * `concurrencyKey` is running (or was claimed earlier in this same call), a run with overlap
   * `skip` becomes `skipped` (`finishedAt = now`, error code `overlap`) and is returned in
   * `skipped`; one with overlap `queue` stays pending and is passed over.
   *
   * Concurrency: a run is claimed by at most one caller; concurrent callers get disjoint sets.
   */
  claimRuns(input: ClaimRunsInput): Promise<ClaimResult>;

  /**
   * Heartbeat: extend the lease of a run that `workerId` holds to `now + leaseMs`, and save the
   * progress and logs given. `ok: false` when the run is no longer running under this worker
   * (recovered, cancelled while pending, or deleted): the worker should abort it.
   * `cancelRequested` tells the worker to abort because someone asked to cancel.
   */
  renewLease(input: RenewLeaseInput): Promise<{ ok: boolean; cancelRequested: boolean }>;

  /**
   * Move running runs to a terminal state (at most one input per run), each fenced:
   * - `fence: { workerId }`: only if the run is running under that worker (normal finish);
   * - `fence: 'expired'`: only if it is running and its `leaseUntil < now` (recovery of a run
   *   whose worker vanished).
   * For each run: sets `finishedAt = now`, `durationMs`, clears the lease, and in the same step
   * updates the job's bookkeeping (`lastRunAt` = run's `startedAt`, `lastRunId`, `lastStatus`,
   * `lastError` — set on failure, cleared on success —, `lastDurationMs`, `runCount` + 1,
   * `errorCount` + 1 on failure; with several runs of one job, the last input's run is the last
   * run) and creates `followUp` (a retry) if given, deduplicated by its `dedupeKey`.
   * Returns, in input order, each finished run, or null where the fence does not hold (the caller
   * lost that run). Each run's finish is atomic on its own; runs that finish together go in one
   * call, which is one round trip where the backend allows.
   *
   * Auto-pause, in the same step as the bookkeeping: a `succeeded` run sets the job's
   * `consecutiveFailures` to 0; a `failed` run without `followUp` (its final failure) adds 1; other
   * outcomes, and failed attempts that will be retried, leave it. When a failure brings it to the
   * job's `autoPause.afterFailures` or more while the job is enabled, the job is paused in that
   * same step (`enabled` false, `nextRunAt` null, `pausedNote` saying why, `version` + 1,
   * `updatedAt = now`), a `paused` audit entry (actor null) is recorded, and that run comes back
   * with `pausedJob: true`. Concurrent finishes of one job are serialised on the job, so only one
   * of them pauses it. Jobs without `autoPause` cost nothing more than the counter.
   */
  finishRuns(inputs: FinishRunInput[]): Promise<(FinishedRun | null)[]>;

  /**
   * `finishRuns(finishes)` and then `claimRuns(claim)`, in one round trip where the backend allows:
   * how a worker hands the slots its runs free to the next due runs without a second call.
   * Each finish has exactly the semantics of `finishRuns` (fencing, bookkeeping, auto-pause and
   * its audit entry, follow-ups, terminal tasks) and the claim exactly those of `claimRuns`
   * (ordering, overlap, disjoint sets across concurrent callers); the claim sees the finishes, so
   * a run queued behind one that just finished can be claimed by the same call. The two steps need
   * not be one atomic step: each is atomic on its own, as in separate calls.
   */
  finishAndClaim(input: FinishAndClaimInput): Promise<FinishAndClaimResult>;

  /** Running runs whose `leaseUntil < now`, oldest lease first, at most `limit`. */
  findExpiredLeases(query: { now: Date; limit: number }): Promise<Run[]>;

  /**
   * Cancel a run: a pending run becomes `cancelled` at once (`finishedAt = now`, error code
   * `cancelled`); a running one gets `cancelRequested = true` and is aborted by its worker.
   * A run already terminal is returned unchanged. Null if there is no such run.
   */
  cancelRun(input: { runId: string; now: Date; by: string | null }): Promise<Run | null>;
}

/** Input of {@link SchedulingStore.claimRuns}. */
export interface ClaimRunsInput {
  /** The claiming instance; written to each claimed run. */
  workerId: string;
  /** Core's clock: runs with `runAt <= now` are claimable, and the lease starts here. */
  now: Date;
  /** At most this many runs are claimed. */
  limit: number;
  /** Lease length given to each claimed run. */
  leaseMs: number;
}

/** Input of {@link SchedulingStore.fireAndClaim}. */
export interface FireAndClaimInput {
  /** The slots to fire, as given to `fireSlots`. */
  firings: FireSlotInput[];
  /** The claim to make once they are fired, as given to `claimRuns`. */
  claim: ClaimRunsInput;
}

/** Result of {@link SchedulingStore.fireAndClaim}. */
export interface FireAndClaimResult extends ClaimResult {
  /** What `fireSlots` would return for `firings`, in input order. */
  fired: FireSlotResult[];
}

/** Input of {@link SchedulingStore.finishAndClaim}. */
export interface FinishAndClaimInput {
  /** Runs to finish, as given to `finishRuns`. */
  finishes: FinishRunInput[];
  /** The claim to make once they are finished, as given to `claimRuns`. */
  claim: ClaimRunsInput;
}

/** Result of {@link SchedulingStore.finishAndClaim}. */
export interface FinishAndClaimResult extends ClaimResult {
  /** What `finishRuns` would return for `finishes`, in input order. */
  finished: (FinishedRun | null)[];
}

/** Input of {@link SchedulingStore.renewLease}. */
export interface RenewLeaseInput {
  runId: string;
  /** The lease holder; the renewal is refused for anyone else. */
  workerId: string;
  /** Core's clock: the lease runs to `now + leaseMs`. */
  now: Date;
  leaseMs: number;
  /** Progress to save; omitted to keep the stored one. */
  progress?: RunProgress | null;
  /** Logs to save; omitted to keep the stored ones. */
  logs?: RunLogLine[];
}

/** Options of {@link AdminStore.insertJobs}. */
export interface InsertJobsOptions {
  /** Audit entries by input index (absent or undefined: none for that job). */
  audits?: readonly (NewAuditEntry | undefined)[];
}

/** Input of {@link SchedulingStore.createRun}. */
export interface CreateRunInput {
  /** The run to create. */
  run: NewRun;
  /** Core's clock: a pending run with `runAt <= now` counts as active. */
  now: Date;
  /** Refuse to create the run while another run of its `concurrencyKey` is active. */
  rejectIfActive: boolean;
  /**
   * Recorded with the run, atomically, only when the run is created; the store adds the created
   * run's id to `after` as `runId`.
   */
  audit?: NewAuditEntry;
  /**
   * Only for stores that declare `announcesCreatedRuns`: publish the created run's `run` event
   * (`status` pending) with this origin, atomically with the creation. Nothing when not created.
   */
  announceAs?: string;
}

/** One job's firing in {@link SchedulingStore.fireSlots}. */
export interface FireSlotInput {
  /** The job whose slot is due. */
  jobId: string;
  /** The `nextRunAt` the caller read; the compare-and-set condition. */
  expectedNextRunAt: Date;
  /** The job's next slot after this firing; null when it will not fire again. */
  nextRunAt: Date | null;
  /** Runs to create (zero with misfire `skip`, several with misfire `all`). */
  runs: NewRun[];
  /** Core's clock. */
  now: Date;
}

/** What {@link SchedulingStore.fireSlots} did for one job. */
export interface FireSlotResult {
  /** True when this caller advanced `nextRunAt`. */
  advanced: boolean;
  /** Runs this caller created. */
  created: Run[];
}

/** Result of {@link SchedulingStore.createRun}. */
export type CreateRunResult =
  | { created: true; run: Run }
  | { created: false; reason: 'duplicate' | 'active'; run: Run };

/** Result of {@link SchedulingStore.claimRuns}. */
export interface ClaimResult {
  /** Runs now running under the caller. */
  claimed: Run[];
  /** Runs marked skipped by the overlap policy. */
  skipped: Run[];
}

/** One run's finish in {@link SchedulingStore.finishRuns}. */
export interface FinishRunInput {
  runId: string;
  /** Who may finish: the lease holder, or anyone once the lease expired. */
  fence: { workerId: string } | 'expired';
  now: Date;
  /** Terminal status. */
  status: Extract<RunStatus, 'succeeded' | 'failed' | 'cancelled'>;
  result: JsonValue | null;
  error: RunError | null;
  /** Final task outcomes; omitted to keep the stored ones. */
  tasks?: RunTask[];
  /** Final logs; omitted to keep the stored ones. */
  logs?: RunLogLine[];
  /** The last progress the executor reported; omitted to keep the stored one. */
  progress?: RunProgress | null;
  /** A retry to create in the same step. */
  followUp?: NewRun | null;
  /**
   * Only for stores that declare `announcesFinishedRuns`: publish the finished run's `run` event
   * (its new status) with this origin, atomically with the finish. Nothing when the fence fails,
   * or when the origin is empty or longer than an event's origin may be (1000 bytes).
   */
  announceAs?: string;
}

/** Filter of {@link AdminStore.listJobs}. */
export interface JobFilter {
  tenantIds?: TenantIds;
  enabled?: boolean;
}

/** Filter of {@link AdminStore.listRuns}; times bound `createdAt`. */
export interface RunFilter {
  tenantIds?: TenantIds;
  statuses?: readonly RunStatus[];
  jobId?: string;
  executor?: string;
  triggers?: readonly Run['trigger'][];
  /** createdAt >= since. */
  since?: Date;
  /** createdAt < until. */
  until?: Date;
  /** Page size. */
  limit: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string | null;
}

/** A page of runs, newest first (`createdAt` desc, then `id` desc). */
export interface RunPage {
  items: Run[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** Terminal runs counted per UTC day and status. */
export interface RunCountRow {
  /** `YYYY-MM-DD` (UTC) of `finishedAt`. */
  day: string;
  status: RunStatus;
  count: number;
}

/** Per-executor figures for dashboards. */
export interface ExecutorSummary {
  /** The run's first-task executor. */
  executor: string;
  /** Finished runs (succeeded, failed, cancelled). */
  runCount: number;
  /** Failed runs. */
  errorCount: number;
  /** Runs running now. */
  running: number;
  /** The most recently finished run (succeeded, failed or cancelled), if any. */
  lastRun: Run | null;
}

/** Filter of {@link AdminStore.listAudit}. */
export interface AuditFilter {
  tenantIds?: TenantIds;
  /** Entries recorded under this job name. */
  job?: string;
  /** at >= since. */
  since?: Date;
  /** Page size. */
  limit: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string | null;
}

/** A page of audit entries, newest first (`at` desc, then the store's order of recording, desc). */
export interface AuditPage {
  items: AuditEntry[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** Admin part: job CRUD, history, stats, pruning and rate limits. Off the hot path. */
export interface AdminStore {
  /**
   * Insert a job; rejects with `ConflictError` when `(tenantId, name)` is taken. With `audit`, the
   * entry is recorded in the same atomic step (and not at all when the insert is refused).
   */
  insertJob(job: NewJob, options?: { audit?: NewAuditEntry }): Promise<Job>;
  /**
   * Insert many jobs (seeding, imports): one result per input, in input order: the job created, or
   * null when its `(tenantId, name)` was already taken, by a stored job or by an earlier input of
   * this call; nothing is written for a null (a taken name is reported, never thrown). With
   * `options.audits`, entry `i` is recorded with job `i` in the same atomic step, only if it is
   * inserted.
   *
   * Concurrency: callers inserting the same name at once (two instances seeding) each get either
   * the job or null, and exactly one of them gets the job. Written in chunks, one statement or
   * script per chunk where the backend allows; each job's insert is atomic on its own, the batch
   * is not.
   */
  insertJobs(jobs: NewJob[], options?: InsertJobsOptions): Promise<(Job | null)[]>;
  /** The job with this id, or null. */
  getJob(id: string): Promise<Job | null>;
  /**
   * The stored jobs among `ids`, each as `getJob` answers it, in any order; ids with no job (or of
   * no job's shape) are left out. Optional: core reads the jobs of the runs one claim brings in one
   * call, and without it reads them one `getJob` at a time.
   */
  getJobs?(ids: readonly string[]): Promise<Job[]>;
  /** The job named `name` in `tenantId` (null = global), or null. */
  findJobByName(tenantId: string | null, name: string): Promise<Job | null>;
  /** Jobs matching the filter, ordered by name then tenant. */
  listJobs(filter: JobFilter): Promise<Job[]>;
  /**
   * Apply `patch` if the job's `version` still equals `expectedVersion`: `version` + 1,
   * `updatedAt = now`. Null when the job is gone or the version moved (re-read and retry).
   * Rejects with `ConflictError` when a rename collides with another job of the same tenant.
   * With `audit`, the entry is recorded in the same atomic step, only when the patch is applied.
   */
  updateJob(input: {
    id: string;
    expectedVersion: number;
    patch: JobPatch;
    now: Date;
    audit?: NewAuditEntry;
  }): Promise<Job | null>;
  /**
   * Delete a job and cancel its pending runs (error code `job_deleted`); false if it did not exist.
   * A run of a slot fired while the delete ran is cancelled too: no pending run of a deleted job remains.
   * With `audit`, the entry is recorded in the same atomic step, only when the job was deleted.
   */
  deleteJob(input: { id: string; now: Date; audit?: NewAuditEntry }): Promise<boolean>;

  /** The run with this id, or null. */
  getRun(id: string): Promise<Run | null>;
  /** Runs matching the filter, newest first, one page at a time. */
  listRuns(filter: RunFilter): Promise<RunPage>;
  /**
   * The stale-run sweep: every running run with `startedAt < startedBefore` (optionally only some
   * tenants') becomes `failed` with `error`, `finishedAt = now`, updating its job's bookkeeping.
   * Returns the runs changed.
   */
  failStaleRuns(input: {
    startedBefore: Date;
    now: Date;
    error: RunError;
    tenantIds?: TenantIds;
  }): Promise<Run[]>;
  /**
   * Delete terminal runs with `finishedAt < finishedBefore` (optionally only some tenants'):
   * never a pending or running run. Returns how many were deleted.
   */
  pruneRuns(input: { finishedBefore: Date; tenantIds?: TenantIds }): Promise<number>;
  /** Audit entries matching the filter, newest first, one page at a time. */
  listAudit(filter: AuditFilter): Promise<AuditPage>;
  /** Delete audit entries with `at < before` (optionally only some tenants'). Returns how many. */
  pruneAudit(input: { before: Date; tenantIds?: TenantIds }): Promise<number>;
  /** Terminal runs with `from <= finishedAt < to`, counted per UTC day and status. */
  countRuns(query: { tenantIds?: TenantIds; from: Date; to: Date }): Promise<RunCountRow[]>;
  /** How many runs are pending and running now (optionally only those of one `concurrencyKey`). */
  countActive(query: {
    tenantIds?: TenantIds;
    concurrencyKey?: string;
  }): Promise<{ pending: number; running: number }>;
  /** Per-executor figures, one row per executor that has runs. */
  executorSummaries(query: { tenantIds?: TenantIds }): Promise<ExecutorSummary[]>;
  /** The earliest `nextRunAt` among enabled jobs (in these tenants), or null. */
  nextJobRunAt(query: { tenantIds?: TenantIds }): Promise<Date | null>;
  /**
   * Count one hit against several sliding windows at once, all or nothing, atomically across
   * instances. When every key has fewer than its `limit` hits in `(now - windowMs, now]`, the hit
   * is counted on every key. Otherwise nothing is counted on any key: `deniedKey` is the first key,
   * in input order, that had no room, and `retryAfterMs` the wait until one of its hits leaves its
   * window. Keys are opaque and distinct within a call; none given is allowed.
   */
  consumeRateLimits(input: { limits: readonly RateLimitSpec[]; now: Date }): Promise<RateLimitVerdict>;
}

/** One window of {@link AdminStore.consumeRateLimits}. */
export interface RateLimitSpec {
  /** Opaque key; callers encode their parts unambiguously. */
  key: string;
  /** Hits allowed in the window; 0 or less allows none. */
  limit: number;
  /** Window length in ms. */
  windowMs: number;
}

/** What {@link AdminStore.consumeRateLimits} decided. */
export interface RateLimitVerdict {
  /** True when the hit was counted on every key. */
  allowed: boolean;
  /** 0 when allowed; else the wait until `deniedKey` has room. */
  retryAfterMs: number;
  /** The first key (in input order) without room; null when allowed. */
  deniedKey: string | null;
}
