import {
  type AuditFilter,
  type AuditPage,
  type ClaimResult,
  type ClaimRunsInput,
  type CreateRunInput,
  type CreateRunResult,
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
  ValidationError,
} from '@cronkeeper/core';
import * as admin from './admin.js';
import * as audit from './audit.js';
import * as bulk from './bulk.js';
import * as claimPath from './claim-path.js';
import type { PgQueryable } from './driver.js';
import * as finishPath from './finish-path.js';
import { applyMigrations, checkMigrations } from './migrate.js';
import { type SqlNames, sqlNames } from './names.js';
import { notifyAll, PgNotifications } from './notifications.js';
import {
  type ParsedPostgresStoreOptions,
  type PostgresStoreOptions,
  parsePostgresStoreOptions,
} from './options.js';
import { plainRunner, preparedRunner } from './prepared.js';
import { refusingBadData } from './query.js';
import * as reports from './reports.js';

function defaultOnError(error: Error): void {
  console.warn(`[cronkeeper] postgres store: ${error.message}`);
}

/** A `Store` on PostgreSQL, plus a view of it bound to a connection you hold (your transaction). */
export interface PostgresStore extends Store {
  /** Schema and table prefix this store works in. */
  readonly location: { schema: string; tablePrefix: string };
  /**
   * The same store running every query on `db` — typically a client inside your own transaction —
   * so runs created through it commit or roll back with your business writes. Each run it creates
   * sends a wake-up NOTIFY in the same statement, delivered at commit. The bound view has no
   * `publish`/`subscribe` (so nothing else is sent on your client), and its `init()` and `close()`
   * do nothing: the store it came from owns the schema and the LISTEN connection.
   */
  bind(db: PgQueryable): PostgresStore;
}

/**
 * Every method is one statement (or one call of a function the migrations installed), so each
 * lifecycle step is atomic whatever the number of instances; see docs/postgres.md for the locking.
 */
export class PgStore implements PostgresStore {
  readonly capabilities: StoreCapabilities;
  readonly location: { schema: string; tablePrefix: string };
  readonly #options: ParsedPostgresStoreOptions;
  readonly #names: SqlNames;
  readonly #target: claimPath.Target;
  readonly #events: PgNotifications | null;
  readonly #bound: boolean;

  constructor(options: PostgresStoreOptions);
  constructor(options: ParsedPostgresStoreOptions, bound: { db: PgQueryable });
  constructor(options: PostgresStoreOptions | ParsedPostgresStoreOptions, bound?: { db: PgQueryable }) {
    this.#options = bound ? (options as ParsedPostgresStoreOptions) : parsePostgresStoreOptions(options);
    this.#names = sqlNames(this.#options.schema, this.#options.tablePrefix);
    this.location = { schema: this.#options.schema, tablePrefix: this.#options.tablePrefix };
    this.#bound = bound !== undefined;
    // A bound store never prepares: named statements would outlive the caller's transaction on a
    // connection the store does not own, and a stale one could not be retried inside it.
    this.#target = bound
      ? {
          db: bound.db,
          sql: plainRunner(bound.db),
          n: this.#names,
          ...(this.#options.notify ? { wakeChannel: this.#names.channel } : {}),
        }
      : {
          db: this.#options.pool,
          sql: this.#options.preparedStatements
            ? preparedRunner(this.#options.pool, this.#options.onError ?? defaultOnError)
            : plainRunner(this.#options.pool),
          n: this.#names,
          ...(this.#options.notify ? { announceChannel: this.#names.channel } : {}),
        };
    this.#events =
      !bound && this.#options.notify
        ? new PgNotifications(
            this.#options.listenPool ?? this.#options.pool,
            this.#names.channel,
            (events) => notifyAll(this.#target.sql, this.#names.channel, events),
            this.#options.onError ?? defaultOnError,
          )
        : null;
    this.capabilities = {
      subscribe: this.#events !== null,
      announcesCreatedRuns: this.#events !== null,
      announcesFinishedRuns: this.#events !== null,
    };
    if (!this.#events) {
      // Declared absent, as the contract requires of a store without notifications.
      this.publish = undefined;
      this.subscribe = undefined;
    }
  }

  bind(db: PgQueryable): PostgresStore {
    if (typeof (db as { query?: unknown } | null)?.query !== 'function')
      throw ValidationError.field('db', 'must be a pg client or pool (an object with query(text, values))');
    return new PgStore(this.#options, { db });
  }

  async init(): Promise<void> {
    if (this.#bound) return;
    if (this.#options.migrate) await applyMigrations(this.#options.pool, this.#names);
    else await checkMigrations(this.#options.pool, this.#names);
  }

  async close(): Promise<void> {
    if (this.#bound) return;
    await this.#events?.close();
  }

  publish?: (events: readonly StoreEvent[]) => Promise<void> = (events) =>
    notifyAll(this.#target.sql, this.#names.channel, events);

  subscribe?: (listener: (event: StoreEvent) => void) => Promise<() => Promise<void>> = (listener) =>
    (this.#events as PgNotifications).subscribe(listener);

  // ---- claim path ----

  findDueJobs(query: { now: Date; limit: number }): Promise<Job[]> {
    return claimPath.findDueJobs(this.#target, query);
  }

  nextWakeAt(query: { now: Date }): Promise<Date | null> {
    return claimPath.nextWakeAt(this.#target, query);
  }

  fireSlots(inputs: FireSlotInput[]): Promise<FireSlotResult[]> {
    return claimPath.fireSlots(this.#target, inputs);
  }

  fireAndClaim(input: FireAndClaimInput): Promise<FireAndClaimResult> {
    return claimPath.fireAndClaim(this.#target, input);
  }

  createRun(input: CreateRunInput): Promise<CreateRunResult> {
    return claimPath.createRun(this.#target, input);
  }

  createRuns(inputs: CreateRunInput[]): Promise<CreateRunResult[]> {
    return bulk.createRuns(this.#target, inputs);
  }

  claimRuns(input: ClaimRunsInput): Promise<ClaimResult> {
    return claimPath.claimRuns(this.#target, input);
  }

  renewLease(input: RenewLeaseInput): Promise<{ ok: boolean; cancelRequested: boolean }> {
    return claimPath.renewLease(this.#target, input);
  }

  finishRuns(inputs: FinishRunInput[]): Promise<(FinishedRun | null)[]> {
    return finishPath.finishRuns(this.#target, inputs);
  }

  finishAndClaim(input: FinishAndClaimInput): Promise<FinishAndClaimResult> {
    return finishPath.finishAndClaim(this.#target, input);
  }

  findExpiredLeases(query: { now: Date; limit: number }): Promise<Run[]> {
    return claimPath.findExpiredLeases(this.#target, query);
  }

  cancelRun(input: { runId: string; now: Date; by: string | null }): Promise<Run | null> {
    return claimPath.cancelRun(this.#target, input);
  }

  // ---- admin ----

  insertJob(job: NewJob, options?: { audit?: NewAuditEntry }): Promise<Job> {
    return refusingBadData(admin.insertJob(this.#target, job, options));
  }

  insertJobs(jobs: NewJob[], options?: InsertJobsOptions): Promise<(Job | null)[]> {
    return bulk.insertJobs(this.#target, jobs, options);
  }

  getJob(id: string): Promise<Job | null> {
    return refusingBadData(admin.getJob(this.#target, id));
  }

  getJobs(ids: readonly string[]): Promise<Job[]> {
    return refusingBadData(admin.getJobs(this.#target, ids));
  }

  findJobByName(tenantId: string | null, name: string): Promise<Job | null> {
    return refusingBadData(admin.findJobByName(this.#target, tenantId, name));
  }

  listJobs(filter: JobFilter): Promise<Job[]> {
    return refusingBadData(admin.listJobs(this.#target, filter));
  }

  updateJob(input: {
    id: string;
    expectedVersion: number;
    patch: JobPatch;
    now: Date;
    audit?: NewAuditEntry;
  }): Promise<Job | null> {
    return refusingBadData(admin.updateJob(this.#target, input));
  }

  deleteJob(input: { id: string; now: Date; audit?: NewAuditEntry }): Promise<boolean> {
    return refusingBadData(admin.deleteJob(this.#target, input));
  }

  getRun(id: string): Promise<Run | null> {
    return refusingBadData(admin.getRun(this.#target, id));
  }

  listRuns(filter: RunFilter): Promise<RunPage> {
    return refusingBadData(admin.listRuns(this.#target, filter));
  }

  failStaleRuns(input: {
    startedBefore: Date;
    now: Date;
    error: RunError;
    tenantIds?: TenantIds;
  }): Promise<Run[]> {
    return refusingBadData(admin.failStaleRuns(this.#target, input));
  }

  pruneRuns(input: { finishedBefore: Date; tenantIds?: TenantIds }): Promise<number> {
    return refusingBadData(admin.pruneRuns(this.#target, input));
  }

  listAudit(filter: AuditFilter): Promise<AuditPage> {
    return refusingBadData(audit.listAudit(this.#target, filter));
  }

  pruneAudit(input: { before: Date; tenantIds?: TenantIds }): Promise<number> {
    return refusingBadData(audit.pruneAudit(this.#target, input));
  }

  countRuns(query: { tenantIds?: TenantIds; from: Date; to: Date }): Promise<RunCountRow[]> {
    return refusingBadData(reports.countRuns(this.#target, query));
  }

  countActive(query: {
    tenantIds?: TenantIds;
    concurrencyKey?: string;
  }): Promise<{ pending: number; running: number }> {
    return refusingBadData(reports.countActive(this.#target, query));
  }

  executorSummaries(query: { tenantIds?: TenantIds }): Promise<ExecutorSummary[]> {
    return refusingBadData(reports.executorSummaries(this.#target, query));
  }

  nextJobRunAt(query: { tenantIds?: TenantIds }): Promise<Date | null> {
    return refusingBadData(reports.nextJobRunAt(this.#target, query));
  }

  consumeRateLimits(input: { limits: readonly RateLimitSpec[]; now: Date }): Promise<RateLimitVerdict> {
    return refusingBadData(reports.consumeRateLimits(this.#target, input));
  }
}
