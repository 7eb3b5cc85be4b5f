import type {
  AuditFilter,
  AuditPage,
  ClaimResult,
  ClaimRunsInput,
  CreateRunInput,
  CreateRunResult,
  ExecutorSummary,
  FinishAndClaimInput,
  FinishAndClaimResult,
  FinishedRun,
  FinishRunInput,
  FireAndClaimInput,
  FireAndClaimResult,
  FireSlotInput,
  FireSlotResult,
  InsertJobsOptions,
  Job,
  JobFilter,
  JobPatch,
  NewAuditEntry,
  NewJob,
  RateLimitSpec,
  RateLimitVerdict,
  RenewLeaseInput,
  Run,
  RunCountRow,
  RunError,
  RunFilter,
  RunPage,
  Store,
  StoreCapabilities,
  StoreEvent,
  TenantIds,
} from '@cronkeeper/core';
import {
  autoPauseAuditEntry,
  autoPauseNote,
  byNameThenTenant,
  createRunsInChunks,
  FROZEN_JOB_FIELDS,
  insertedJob,
  insertJobsInChunks,
} from '@cronkeeper/core';
import {
  countActiveRuns,
  countRunsByDay,
  inTenants,
  listRunsPage,
  summarizeExecutors,
} from './admin-queries.js';
import { AuditLog } from './audit-log.js';
import { copy, copyJob } from './copy.js';
import { EventBus } from './event-bus.js';
import type { Meter } from './heap.js';
import { registerInternals } from './internals.js';
import { JobTable } from './job-table.js';
import { type MemoryStoreOptions, parseMemoryStoreOptions } from './options.js';
import { RateLimiter } from './rate-limiter.js';
import { RunTable } from './run-table.js';

const FROZEN_FIELDS: ReadonlySet<string> = new Set(FROZEN_JOB_FIELDS);

/**
 * The Store kept in this process's memory. Every method does its whole step synchronously between
 * two awaits, so each is atomic: concurrent callers on one instance see them one after the other.
 */
export class MemoryStore implements Store {
  readonly capabilities: StoreCapabilities = { subscribe: true };
  readonly #meter: Meter = { examined: 0 };
  readonly #jobs = new JobTable(this.#meter);
  readonly #runs: RunTable;
  readonly #limiter = new RateLimiter();
  readonly #bus = new EventBus();
  readonly #audit = new AuditLog();

  constructor(options: MemoryStoreOptions = {}) {
    const parsed = parseMemoryStoreOptions(options);
    this.#runs = new RunTable(this.#meter, parsed.maxFinishedRuns ?? null, (run) => this.#recordOutcome(run));
    registerInternals(this, {
      meter: this.#meter,
      run: (id) => this.#runs.get(id) ?? null,
      job: (id) => this.#jobs.get(id) ?? null,
    });
  }

  async init(): Promise<void> {}

  async close(): Promise<void> {}

  publish(events: readonly StoreEvent[]): Promise<void> {
    return this.#bus.publish(events);
  }

  subscribe(listener: (event: StoreEvent) => void): Promise<() => Promise<void>> {
    return this.#bus.subscribe(listener);
  }

  // ---- claim path ----

  async findDueJobs(query: { now: Date; limit: number }): Promise<Job[]> {
    const due: Job[] = [];
    if (query.limit <= 0) return due;
    for (const job of this.#jobs.due(query.now)) {
      due.push(copy(job));
      if (due.length >= query.limit) break;
    }
    return due;
  }

  async nextWakeAt(query: { now: Date }): Promise<Date | null> {
    const job = this.#jobs.firstAfter(query.now);
    const run = this.#runs.queue.nextAfter(query.now);
    const times = [job, run].filter((time) => time !== null).map((time) => time.getTime());
    return times.length === 0 ? null : new Date(Math.min(...times));
  }

  async fireSlots(inputs: FireSlotInput[]): Promise<FireSlotResult[]> {
    return inputs.map((input) => this.#fireSlot(input));
  }

  /** One synchronous step: the claim sees the firings (a run just fired can start in this call). */
  async fireAndClaim(input: FireAndClaimInput): Promise<FireAndClaimResult> {
    const fired = input.firings.map((firing) => this.#fireSlot(firing));
    const { claimed, skipped } = this.#runs.claim(input.claim);
    return { fired, claimed: claimed.map(copy), skipped: skipped.map(copy) };
  }

  #fireSlot(input: FireSlotInput): FireSlotResult {
    const job = this.#jobs.get(input.jobId);
    if (!job || job.nextRunAt?.getTime() !== input.expectedNextRunAt.getTime())
      return { advanced: false, created: [] };
    const created: Run[] = [];
    for (const run of input.runs) {
      if (run.dedupeKey !== null && this.#runs.byDedupeKey(run.dedupeKey)) continue;
      created.push(copy(this.#runs.add(run)));
    }
    const nextRunAt = input.nextRunAt === null ? null : new Date(input.nextRunAt);
    this.#jobs.modify(job, job, (stored) => {
      stored.nextRunAt = nextRunAt;
    });
    return { advanced: true, created };
  }

  async createRun(input: CreateRunInput): Promise<CreateRunResult> {
    return this.#createRun(input);
  }

  #createRun(input: CreateRunInput): CreateRunResult {
    const duplicate = input.run.dedupeKey === null ? undefined : this.#runs.byDedupeKey(input.run.dedupeKey);
    if (duplicate) return { created: false, reason: 'duplicate', run: copy(duplicate) };
    if (input.rejectIfActive) {
      const active = this.#runs.queue.activeRun(input.run.concurrencyKey, input.now);
      if (active) return { created: false, reason: 'active', run: copy(active) };
    }
    const run = this.#runs.add(input.run);
    if (input.audit) this.#audit.append({ ...input.audit, after: { ...input.audit.after, runId: run.id } });
    return { created: true, run: copy(run) };
  }

  createRuns(inputs: CreateRunInput[]): Promise<CreateRunResult[]> {
    // One chunk: the whole batch is written between two awaits.
    return createRunsInChunks(inputs, {
      chunkSize: Math.max(1, inputs.length),
      writeChunk: async (runs) =>
        runs.map((run) => this.#createRun({ run, now: run.createdAt, rejectIfActive: false })),
      createRun: (input) => this.createRun(input),
    });
  }

  async claimRuns(input: ClaimRunsInput): Promise<ClaimResult> {
    const { claimed, skipped } = this.#runs.claim(input);
    return { claimed: claimed.map(copy), skipped: skipped.map(copy) };
  }

  async renewLease(input: RenewLeaseInput): Promise<{ ok: boolean; cancelRequested: boolean }> {
    const run = this.#runs.get(input.runId);
    if (run?.status !== 'running' || run.workerId !== input.workerId)
      return { ok: false, cancelRequested: false };
    this.#runs.queue.moveLease(run, () => {
      run.leaseUntil = new Date(input.now.getTime() + input.leaseMs);
    });
    if (input.progress !== undefined) run.progress = copy(input.progress);
    if (input.logs !== undefined) run.logs = copy(input.logs);
    return { ok: true, cancelRequested: run.cancelRequested };
  }

  async finishRuns(inputs: FinishRunInput[]): Promise<(FinishedRun | null)[]> {
    return inputs.map((input) => this.#finishRun(input));
  }

  /** One synchronous step: the claim sees the finishes (a run queued behind one can start now). */
  async finishAndClaim(input: FinishAndClaimInput): Promise<FinishAndClaimResult> {
    const finished = input.finishes.map((finish) => this.#finishRun(finish));
    const { claimed, skipped } = this.#runs.claim(input.claim);
    return { finished, claimed: claimed.map(copy), skipped: skipped.map(copy) };
  }

  #finishRun(input: FinishRunInput): FinishedRun | null {
    const run = this.#runs.get(input.runId);
    if (run?.status !== 'running') return null;
    const holds =
      input.fence === 'expired'
        ? run.leaseUntil !== null && run.leaseUntil.getTime() < input.now.getTime()
        : run.workerId === input.fence.workerId;
    if (!holds) return null;
    this.#runs.settle(run, input);
    if (
      input.followUp &&
      !(input.followUp.dedupeKey !== null && this.#runs.byDedupeKey(input.followUp.dedupeKey))
    ) {
      this.#runs.add(input.followUp);
    }
    const finished: FinishedRun = copy(run);
    if (this.#countFailure(run, input)) finished.pausedJob = true;
    return finished;
  }

  /** Auto-pause bookkeeping of a finish (see `Store.finishRuns`); true when it paused the job. */
  #countFailure(run: Run, input: FinishRunInput): boolean {
    const job = run.jobId === null ? undefined : this.#jobs.get(run.jobId);
    if (!job) return false;
    if (run.status === 'succeeded') job.consecutiveFailures = 0;
    if (run.status !== 'failed' || input.followUp) return false;
    job.consecutiveFailures += 1;
    if (!job.enabled || !job.autoPause || job.consecutiveFailures < job.autoPause.afterFailures) return false;
    const entry = autoPauseAuditEntry(job, job.consecutiveFailures, input.now);
    this.#jobs.modify(job, job, (stored) => {
      stored.enabled = false;
      stored.nextRunAt = null;
      stored.pausedNote = autoPauseNote(stored.consecutiveFailures);
      stored.version += 1;
      stored.updatedAt = new Date(input.now);
    });
    this.#audit.append(entry);
    return true;
  }

  async findExpiredLeases(query: { now: Date; limit: number }): Promise<Run[]> {
    const expired: Run[] = [];
    if (query.limit <= 0) return expired;
    for (const run of this.#runs.queue.expired(query.now)) {
      expired.push(copy(run));
      if (expired.length >= query.limit) break;
    }
    return expired;
  }

  async cancelRun(input: { runId: string; now: Date; by: string | null }): Promise<Run | null> {
    const run = this.#runs.get(input.runId);
    if (!run) return null;
    if (run.status === 'pending') {
      const message = input.by ? `cancelled by ${input.by}` : 'cancelled';
      this.#runs.cancelPending(run, input.now, { code: 'cancelled', message });
    } else if (run.status === 'running') {
      run.cancelRequested = true;
    }
    return copy(run);
  }

  // ---- admin ----

  async insertJob(input: NewJob, options: { audit?: NewAuditEntry } = {}): Promise<Job> {
    const job: Job = { ...copy(input), id: globalThis.crypto.randomUUID(), version: 1 };
    this.#jobs.insert(job);
    if (options.audit) this.#audit.append(options.audit);
    return copy(job);
  }

  insertJobs(jobs: NewJob[], options?: InsertJobsOptions): Promise<(Job | null)[]> {
    return insertJobsInChunks(jobs, options, {
      chunkSize: Math.max(1, jobs.length),
      writeChunk: async (chunk, audits) =>
        chunk.map((input, index) => {
          if (this.#jobs.byName(input.tenantId, input.name)) return null;
          // One copy, kept here; the caller built its records for this call, so the job it gets
          // back may share their fields, as it does from the other stores' bulk writes.
          const job = insertedJob(input, globalThis.crypto.randomUUID());
          this.#jobs.insert(copyJob(job));
          const audit = audits[index];
          if (audit) this.#audit.append(audit);
          return job;
        }),
    });
  }

  async getJob(id: string): Promise<Job | null> {
    const job = this.#jobs.get(id);
    return job ? copy(job) : null;
  }

  async getJobs(ids: readonly string[]): Promise<Job[]> {
    return ids.flatMap((id) => {
      const job = this.#jobs.get(id);
      return job ? [copy(job)] : [];
    });
  }

  async findJobByName(tenantId: string | null, name: string): Promise<Job | null> {
    const job = this.#jobs.byName(tenantId, name);
    return job ? copy(job) : null;
  }

  async listJobs(filter: JobFilter): Promise<Job[]> {
    const jobs: Job[] = [];
    for (const job of this.#jobs.all()) {
      if (!inTenants(filter.tenantIds, job.tenantId)) continue;
      if (filter.enabled !== undefined && job.enabled !== filter.enabled) continue;
      jobs.push(job);
    }
    return jobs.sort(byNameThenTenant).map(copy);
  }

  async updateJob(input: {
    id: string;
    expectedVersion: number;
    patch: JobPatch;
    now: Date;
    audit?: NewAuditEntry;
  }): Promise<Job | null> {
    const job = this.#jobs.get(input.id);
    if (!job || job.version !== input.expectedVersion) return null;
    const patch = Object.fromEntries(
      Object.entries(copy(input.patch)).filter(
        ([key, value]) => value !== undefined && !FROZEN_FIELDS.has(key),
      ),
    ) as JobPatch;
    const target = {
      tenantId: patch.tenantId !== undefined ? patch.tenantId : job.tenantId,
      name: patch.name ?? job.name,
    };
    this.#jobs.modify(job, target, (stored) => {
      Object.assign(stored, patch, { version: stored.version + 1, updatedAt: new Date(input.now) });
    });
    if (input.audit) this.#audit.append(input.audit);
    return copy(job);
  }

  async deleteJob(input: { id: string; now: Date; audit?: NewAuditEntry }): Promise<boolean> {
    const job = this.#jobs.get(input.id);
    if (!job) return false;
    this.#jobs.delete(job);
    if (input.audit) this.#audit.append(input.audit);
    for (const run of this.#runs.ofJob(job.id)) {
      if (run.status !== 'pending') continue;
      this.#runs.cancelPending(run, input.now, {
        code: 'job_deleted',
        message: `job "${job.name}" was deleted`,
      });
    }
    return true;
  }

  async getRun(id: string): Promise<Run | null> {
    const run = this.#runs.get(id);
    return run ? copy(run) : null;
  }

  async listRuns(filter: RunFilter): Promise<RunPage> {
    return listRunsPage(this.#runs.all(), filter);
  }

  async failStaleRuns(input: {
    startedBefore: Date;
    now: Date;
    error: RunError;
    tenantIds?: TenantIds;
  }): Promise<Run[]> {
    const stale = [...this.#runs.all()].filter(
      (run) =>
        run.status === 'running' &&
        inTenants(input.tenantIds, run.tenantId) &&
        run.startedAt !== null &&
        run.startedAt.getTime() < input.startedBefore.getTime(),
    );
    for (const run of stale)
      this.#runs.settle(run, { now: input.now, status: 'failed', result: null, error: input.error });
    return stale.map(copy);
  }

  async pruneRuns(input: { finishedBefore: Date; tenantIds?: TenantIds }): Promise<number> {
    return this.#runs.prune(input.finishedBefore, input.tenantIds);
  }

  async listAudit(filter: AuditFilter): Promise<AuditPage> {
    return this.#audit.list(filter);
  }

  async pruneAudit(input: { before: Date; tenantIds?: TenantIds }): Promise<number> {
    return this.#audit.prune(input.before, input.tenantIds);
  }

  async countRuns(query: { tenantIds?: TenantIds; from: Date; to: Date }): Promise<RunCountRow[]> {
    return countRunsByDay(this.#runs.all(), query);
  }

  async countActive(query: {
    tenantIds?: TenantIds;
    concurrencyKey?: string;
  }): Promise<{ pending: number; running: number }> {
    // Only the active runs are looked at, not the history.
    const runs =
      query.concurrencyKey === undefined
        ? this.#runs.queue.active()
        : this.#runs.queue.activeOfKey(query.concurrencyKey);
    return countActiveRuns(runs, query.tenantIds);
  }

  async executorSummaries(query: { tenantIds?: TenantIds }): Promise<ExecutorSummary[]> {
    return summarizeExecutors(this.#runs.all(), query.tenantIds);
  }

  async nextJobRunAt(query: { tenantIds?: TenantIds }): Promise<Date | null> {
    for (const job of this.#jobs.scheduled()) {
      if (inTenants(query.tenantIds, job.tenantId)) return new Date(job.nextRunAt as Date);
    }
    return null;
  }

  async consumeRateLimits(input: { limits: readonly RateLimitSpec[]; now: Date }): Promise<RateLimitVerdict> {
    return this.#limiter.consume(input.limits, input.now);
  }

  /** Job bookkeeping of a run that just finished (called in the same step as the finish). */
  #recordOutcome(run: Run): void {
    const job = run.jobId === null ? undefined : this.#jobs.get(run.jobId);
    if (!job || run.status === 'skipped') return;
    job.lastRunAt = run.startedAt === null ? null : new Date(run.startedAt);
    job.lastRunId = run.id;
    job.lastStatus = run.status;
    if (run.status === 'failed') job.lastError = run.error?.message ?? 'failed';
    else if (run.status === 'succeeded') job.lastError = null;
    job.lastDurationMs = run.durationMs;
    job.runCount += 1;
    if (run.status === 'failed') job.errorCount += 1;
  }
}
