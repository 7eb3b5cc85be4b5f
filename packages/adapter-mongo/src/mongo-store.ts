import { randomUUID } from 'node:crypto';
import {
  type AuditFilter,
  type AuditPage,
  type ClaimResult,
  type ClaimRunsInput,
  ConflictError,
  type CreateRunInput,
  type CreateRunResult,
  createRunsInChunks,
  type ExecutorSummary,
  type FinishAndClaimInput,
  type FinishAndClaimResult,
  type FinishedRun,
  type FinishRunInput,
  type FireAndClaimInput,
  type FireAndClaimResult,
  type FireSlotInput,
  type FireSlotResult,
  type InsertJobsOptions,
  insertJobsInChunks,
  type Job,
  type JobFilter,
  type JobPatch,
  type NewAuditEntry,
  type NewJob,
  type RateLimitSpec,
  type RateLimitVerdict,
  type RenewLeaseInput,
  type Run,
  type RunCountRow,
  type RunError,
  type RunFilter,
  type RunPage,
  type Store,
  type StoreCapabilities,
  type StoreEvent,
  type TenantIds,
} from '@cronkeeper/core';
import type { Collection, Document } from 'mongodb';
import {
  type AuditDocument,
  deleteWithEntry,
  encodeAudit,
  flushOutbox,
  listAudit,
  newAuditId,
  pruneAudit,
  repairAudit,
} from './audit.js';
import * as bulk from './bulk.js';
import { claimDueRuns } from './claims.js';
import {
  copyLogs,
  decodeJob,
  decodeRun,
  encodeJobPatch,
  encodeNewJob,
  encodeNewRun,
  type JobDocument,
  type RunDocument,
} from './documents.js';
import { isDuplicateKey } from './driver.js';
import { type EventDocument, MongoEvents } from './events.js';
import { fireSlot, repairFirings } from './firing.js';
import { changeStreamsSupported, collectionNames, describeDeployment, ensureIndexes } from './indexes.js';
import { type MongoDbLike, type MongoStoreOptions, parseMongoStoreOptions } from './options.js';
import {
  activeKeyFilter,
  activeRunFilter,
  dedupeKeyFilter,
  endPendingUpdate,
  type Finish,
  NOT_STAGED,
  TERMINAL_STATUSES,
  tenantFilter,
} from './queries.js';
import { consumeRateLimits, type RateLimitDocument } from './rate-limits.js';
import {
  countActiveRuns,
  countRunsByDay,
  earliestJobRunAt,
  listRunsPage,
  summarizeExecutors,
} from './reports.js';
import { finishAndSettle, repairSettlements, type SettlementCollections } from './settlement.js';

const AFTER = { returnDocument: 'after' } as const;
/** Interrupted settlements repaired per `findExpiredLeases` call. */
const REPAIR_BATCH = 100;
/** Attempts of a write that lost a race to a document that vanished before it could be read. */
const ATTEMPTS = 5;

function defaultOnError(error: Error): void {
  console.warn(`[cronkeeper] mongo store: ${error.message}`);
}

function conflict(name: string, tenantId: string | null | undefined): ConflictError {
  const where =
    tenantId === undefined
      ? 'in its tenant'
      : tenantId === null
        ? 'as a global job'
        : `in tenant "${tenantId}"`;
  return new ConflictError(
    `a job named "${name}" already exists ${where}: pick another name or update that job`,
  );
}

/**
 * The Store on MongoDB. Each lifecycle step is one atomic single-document write whose filter
 * carries its condition (compare-and-set), and every race the contract decides is settled by a
 * unique index: no multi-document transactions, so a standalone server works too. Steps that
 * touch two documents write the decisive one first and make the second idempotent and repairable.
 */
export class MongoStore implements Store {
  readonly capabilities: StoreCapabilities = { subscribe: false };
  /** Set by `init()` when the deployment has change streams. */
  publish?: (events: readonly StoreEvent[]) => Promise<void>;
  /** Set by `init()` when the deployment has change streams. */
  subscribe?: (listener: (event: StoreEvent) => void) => Promise<() => Promise<void>>;
  readonly #db: MongoDbLike;
  readonly #names: ReturnType<typeof collectionNames>;
  readonly #changeStreams: boolean;
  readonly #jobs: Collection<JobDocument>;
  readonly #runs: Collection<RunDocument>;
  readonly #limits: Collection<RateLimitDocument>;
  readonly #audit: Collection<AuditDocument>;
  readonly #settlement: SettlementCollections;
  readonly #events: MongoEvents;

  constructor(options: MongoStoreOptions) {
    const parsed = parseMongoStoreOptions(options);
    this.#db = parsed.db;
    this.#names = collectionNames(parsed.collectionPrefix);
    this.#changeStreams = parsed.changeStreams;
    this.#jobs = parsed.db.collection<JobDocument>(this.#names.jobs);
    this.#runs = parsed.db.collection<RunDocument>(this.#names.runs);
    this.#limits = parsed.db.collection<RateLimitDocument>(this.#names.rateLimits);
    this.#audit = parsed.db.collection<AuditDocument>(this.#names.audit);
    this.#settlement = { runs: this.#runs, jobs: this.#jobs, audit: this.#audit };
    this.#events = new MongoEvents(
      parsed.db.collection<EventDocument>(this.#names.events),
      parsed.onError ?? defaultOnError,
    );
  }

  async init(): Promise<void> {
    await ensureIndexes(this.#db, this.#names);
    if (!this.#changeStreams || this.capabilities.subscribe) return;
    if (!changeStreamsSupported(await describeDeployment(this.#db))) return;
    this.capabilities.subscribe = true;
    this.publish = (events) => this.#events.publish(events);
    this.subscribe = (listener) => this.#events.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.#events.close();
  }

  // ---- claim path ----

  async findDueJobs(query: { now: Date; limit: number }): Promise<Job[]> {
    if (query.limit <= 0) return [];
    const docs = await this.#jobs
      .find({ enabled: true, nextRunAt: { $lte: query.now } })
      .sort({ nextRunAt: 1, _id: 1 })
      .limit(query.limit)
      .toArray();
    return docs.map(decodeJob);
  }

  async nextWakeAt(query: { now: Date }): Promise<Date | null> {
    const [job, run] = await Promise.all([
      this.#jobs.findOne({ enabled: true, nextRunAt: { $gt: query.now } }, { sort: { nextRunAt: 1 } }),
      this.#runs.findOne({ status: 'pending', runAt: { $gt: query.now } }, { sort: { runAt: 1 } }),
    ]);
    const times = [job?.nextRunAt, run?.runAt].filter((time): time is Date => time instanceof Date);
    return times.length === 0 ? null : new Date(Math.min(...times.map((time) => time.getTime())));
  }

  // Each job's firing is its own sequence of single-document steps, so they may overlap.
  fireSlots(inputs: FireSlotInput[]): Promise<FireSlotResult[]> {
    return Promise.all(inputs.map((input) => fireSlot(this.#runs, this.#jobs, input)));
  }

  async createRun(input: CreateRunInput): Promise<CreateRunResult> {
    const { run, now } = input;
    // A run that is active from birth enters the gate: the unique index on `activeKey` lets one of
    // several concurrent rejectIfActive callers in, and the others find it there.
    const gated =
      input.rejectIfActive &&
      (run.status === 'running' || (run.status === 'pending' && run.runAt.getTime() <= now.getTime()));
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const duplicate =
        run.dedupeKey === null ? null : await this.#runs.findOne(dedupeKeyFilter(run.dedupeKey));
      if (duplicate) return { created: false, reason: 'duplicate', run: decodeRun(duplicate) };
      if (input.rejectIfActive) {
        // Sorting by status descending puts a running run before a pending one.
        const active = await this.#runs.findOne(activeRunFilter(run.concurrencyKey, now), {
          sort: { status: -1 },
        });
        if (active) return { created: false, reason: 'active', run: decodeRun(active) };
      }
      const doc = encodeNewRun(run, randomUUID(), gated ? run.concurrencyKey : undefined);
      // The entry rides in the run's own insert, then is copied out (see audit.ts).
      if (input.audit)
        doc.auditOutbox = [
          encodeAudit({ ...input.audit, after: { ...(input.audit.after ?? {}), runId: doc._id } }),
        ];
      try {
        await this.#runs.insertOne(doc);
        if (doc.auditOutbox) await flushOutbox(this.#audit, this.#runs, doc);
        return { created: true, run: decodeRun(doc) };
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      if (gated) {
        // Another caller's run holds the gate (even if, by a skewed clock, it is due a moment after our now).
        const holder = await this.#runs.findOne(activeKeyFilter(run.concurrencyKey));
        if (holder) return { created: false, reason: 'active', run: decodeRun(holder) };
      }
      // The winner already ended, or it was the dedupe key: the next round reads the outcome.
    }
    throw new Error(`createRun kept colliding on concurrency key "${run.concurrencyKey}"; try again`);
  }

  createRuns(inputs: CreateRunInput[]): Promise<CreateRunResult[]> {
    return createRunsInChunks(inputs, {
      chunkSize: bulk.RUN_CHUNK,
      writeChunk: (runs) => bulk.writeRuns(this.#runs, runs),
      createRun: (input) => this.createRun(input),
    });
  }

  claimRuns(input: ClaimRunsInput): Promise<ClaimResult> {
    return claimDueRuns(this.#settlement, input);
  }

  async renewLease(input: RenewLeaseInput): Promise<{ ok: boolean; cancelRequested: boolean }> {
    const set: Partial<RunDocument> = { leaseUntil: new Date(input.now.getTime() + input.leaseMs) };
    if (input.progress !== undefined)
      set.progress =
        input.progress === null ? null : { percent: input.progress.percent, note: input.progress.note };
    if (input.logs !== undefined) set.logs = copyLogs(input.logs);
    const doc = await this.#runs.findOneAndUpdate(
      { _id: input.runId, status: 'running', workerId: input.workerId },
      { $set: set },
      { ...AFTER, projection: { cancelRequested: 1 } },
    );
    return doc
      ? { ok: true, cancelRequested: doc.cancelRequested === true }
      : { ok: false, cancelRequested: false };
  }

  // One after the other: each finish is its own sequence of single-document steps, and runs of one
  // job would otherwise race on its bookkeeping order.
  async finishRuns(inputs: FinishRunInput[]): Promise<(FinishedRun | null)[]> {
    const finished: (FinishedRun | null)[] = [];
    for (const input of inputs) finished.push(await this.#finishRun(input));
    return finished;
  }

  /** The firings, then the claim: as for finishAndClaim, two steps one after the other. */
  async fireAndClaim(input: FireAndClaimInput): Promise<FireAndClaimResult> {
    const fired = await this.fireSlots(input.firings);
    const { claimed, skipped } = await this.claimRuns(input.claim);
    return { fired, claimed, skipped };
  }

  /** The finishes, then the claim: MongoDB has no multi-document step to put them in, nor needs one. */
  async finishAndClaim(input: FinishAndClaimInput): Promise<FinishAndClaimResult> {
    const finished = await this.finishRuns(input.finishes);
    const { claimed, skipped } = await this.claimRuns(input.claim);
    return { finished, claimed, skipped };
  }

  #finishRun(input: FinishRunInput): Promise<FinishedRun | null> {
    const fence =
      input.fence === 'expired' ? { leaseUntil: { $lt: input.now } } : { workerId: input.fence.workerId };
    return this.#finish(
      { _id: input.runId, status: 'running', ...fence },
      {
        now: input.now,
        status: input.status,
        result: input.result,
        error: input.error,
        tasks: input.tasks,
        logs: input.logs,
        progress: input.progress,
        followUp: input.followUp ? encodeNewRun(input.followUp, randomUUID()) : null,
        counted: input.status === 'failed' && !input.followUp,
        pauseAuditId: newAuditId(),
      },
    );
  }

  #finish(filter: Document, finish: Finish): Promise<FinishedRun | null> {
    return finishAndSettle(this.#settlement, filter, finish);
  }

  async findExpiredLeases(query: { now: Date; limit: number }): Promise<Run[]> {
    // Recovery runs on every instance: the place to finish what a crashed instance left behind.
    await repairSettlements(this.#settlement, REPAIR_BATCH, query.now);
    await repairFirings(this.#runs, this.#jobs);
    await repairAudit(this.#audit, this.#jobs, this.#runs, query.now, REPAIR_BATCH);
    if (query.limit <= 0) return [];
    const docs = await this.#runs
      .find({ status: 'running', leaseUntil: { $lt: query.now } })
      .sort({ leaseUntil: 1, _id: 1 })
      .limit(query.limit)
      .toArray();
    return docs.map(decodeRun);
  }

  async cancelRun(input: { runId: string; now: Date; by: string | null }): Promise<Run | null> {
    const error: RunError = {
      code: 'cancelled',
      message: input.by ? `cancelled by ${input.by}` : 'cancelled',
    };
    // A run only moves forward (pending → running → terminal), so trying each state in turn is race-free.
    const cancelled = await this.#runs.findOneAndUpdate(
      { _id: input.runId, status: 'pending' },
      endPendingUpdate('cancelled', input.now, error),
      AFTER,
    );
    if (cancelled) return decodeRun(cancelled);
    const requested = await this.#runs.findOneAndUpdate(
      { _id: input.runId, status: 'running' },
      { $set: { cancelRequested: true } },
      AFTER,
    );
    if (requested) return decodeRun(requested);
    const doc = await this.#runs.findOne({ _id: input.runId, status: NOT_STAGED });
    return doc ? decodeRun(doc) : null;
  }

  // ---- admin ----

  async insertJob(job: NewJob, options: { audit?: NewAuditEntry } = {}): Promise<Job> {
    const doc = encodeNewJob(job, randomUUID());
    if (options.audit) doc.auditOutbox = [encodeAudit(options.audit)];
    try {
      await this.#jobs.insertOne(doc);
    } catch (error) {
      if (isDuplicateKey(error)) throw conflict(job.name, job.tenantId);
      throw error;
    }
    await flushOutbox(this.#audit, this.#jobs, doc);
    return decodeJob(doc);
  }

  insertJobs(jobs: NewJob[], options?: InsertJobsOptions): Promise<(Job | null)[]> {
    return insertJobsInChunks(jobs, options, {
      chunkSize: bulk.JOB_CHUNK,
      writeChunk: (chunk, audits) => bulk.writeJobs(this.#jobs, this.#audit, chunk, audits),
    });
  }

  async getJob(id: string): Promise<Job | null> {
    const doc = await this.#jobs.findOne({ _id: id });
    return doc ? decodeJob(doc) : null;
  }

  async getJobs(ids: readonly string[]): Promise<Job[]> {
    if (ids.length === 0) return [];
    const docs = await this.#jobs.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(decodeJob);
  }

  async findJobByName(tenantId: string | null, name: string): Promise<Job | null> {
    const doc = await this.#jobs.findOne({ tenantId, name });
    return doc ? decodeJob(doc) : null;
  }

  async listJobs(filter: JobFilter): Promise<Job[]> {
    const query: Document = tenantFilter(filter.tenantIds);
    if (filter.enabled !== undefined) query.enabled = filter.enabled;
    // null (global) sorts before any string, so global jobs come first within a name.
    const docs = await this.#jobs.find(query).sort({ name: 1, tenantId: 1 }).toArray();
    return docs.map(decodeJob);
  }

  async updateJob(input: {
    id: string;
    expectedVersion: number;
    patch: JobPatch;
    now: Date;
    audit?: NewAuditEntry;
  }): Promise<Job | null> {
    const set = { ...encodeJobPatch(input.patch as Record<string, unknown>), updatedAt: input.now };
    const update: Document = { $set: set, $inc: { version: 1 } };
    if (input.audit) update.$push = { auditOutbox: encodeAudit(input.audit) };
    try {
      const doc = await this.#jobs.findOneAndUpdate(
        { _id: input.id, version: input.expectedVersion },
        update,
        AFTER,
      );
      if (doc) await flushOutbox(this.#audit, this.#jobs, doc);
      return doc ? decodeJob(doc) : null;
    } catch (error) {
      if (isDuplicateKey(error)) throw conflict(input.patch.name ?? 'this name', input.patch.tenantId);
      throw error;
    }
  }

  deleteJob(input: { id: string; now: Date; audit?: NewAuditEntry }): Promise<boolean> {
    return deleteWithEntry(this.#audit, input.audit, input.id, async () => {
      const job = await this.#jobs.findOneAndDelete({ _id: input.id });
      if (!job) return false;
      await this.#runs.updateMany(
        { jobId: input.id, status: 'pending' },
        endPendingUpdate('cancelled', input.now, {
          code: 'job_deleted',
          message: `job "${job.name}" was deleted`,
        }),
      );
      return true;
    });
  }

  async getRun(id: string): Promise<Run | null> {
    const doc = await this.#runs.findOne({ _id: id, status: NOT_STAGED });
    return doc ? decodeRun(doc) : null;
  }

  listRuns(filter: RunFilter): Promise<RunPage> {
    return listRunsPage(this.#runs, filter);
  }

  async failStaleRuns(input: {
    startedBefore: Date;
    now: Date;
    error: RunError;
    tenantIds?: TenantIds;
  }): Promise<Run[]> {
    const stale = {
      status: 'running' as const,
      startedAt: { $lt: input.startedBefore },
      ...tenantFilter(input.tenantIds),
    };
    const candidates = await this.#runs
      .find(stale, { projection: { _id: 1 } })
      .sort({ startedAt: 1, _id: 1 })
      .toArray();
    const failed: Run[] = [];
    for (const { _id } of candidates) {
      // Fenced like any finish: a run that ended meanwhile is left alone.
      const run = await this.#finish(
        { _id, ...stale },
        { now: input.now, status: 'failed', result: null, error: input.error, followUp: null },
      );
      if (run) failed.push(run);
    }
    return failed;
  }

  async pruneRuns(input: { finishedBefore: Date; tenantIds?: TenantIds }): Promise<number> {
    const result = await this.#runs.deleteMany({
      status: { $in: TERMINAL_STATUSES },
      finishedAt: { $lt: input.finishedBefore },
      // A run whose settlement is not done yet still carries its follow-up: keep it until then.
      settlement: { $exists: false },
      ...tenantFilter(input.tenantIds),
    });
    return result.deletedCount;
  }

  listAudit(filter: AuditFilter): Promise<AuditPage> {
    return listAudit(this.#audit, filter);
  }

  pruneAudit(input: { before: Date; tenantIds?: TenantIds }): Promise<number> {
    return pruneAudit(this.#audit, input);
  }

  countRuns(query: { tenantIds?: TenantIds; from: Date; to: Date }): Promise<RunCountRow[]> {
    return countRunsByDay(this.#runs, query);
  }

  countActive(query: {
    tenantIds?: TenantIds;
    concurrencyKey?: string;
  }): Promise<{ pending: number; running: number }> {
    return countActiveRuns(this.#runs, query.tenantIds, query.concurrencyKey);
  }

  executorSummaries(query: { tenantIds?: TenantIds }): Promise<ExecutorSummary[]> {
    return summarizeExecutors(this.#runs, query.tenantIds);
  }

  nextJobRunAt(query: { tenantIds?: TenantIds }): Promise<Date | null> {
    return earliestJobRunAt(this.#jobs, query.tenantIds);
  }

  consumeRateLimits(input: { limits: readonly RateLimitSpec[]; now: Date }): Promise<RateLimitVerdict> {
    return consumeRateLimits(this.#limits, input);
  }
}
