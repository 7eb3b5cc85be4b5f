import type { Db, Document, IndexDescription } from 'mongodb';
import { isMongoError } from './driver.js';

/** The collections of one store, named from its prefix. */
export interface CollectionNames {
  jobs: string;
  runs: string;
  rateLimits: string;
  events: string;
  audit: string;
}

/** Collection names under `prefix`. */
export function collectionNames(prefix: string): CollectionNames {
  return {
    jobs: `${prefix}jobs`,
    runs: `${prefix}runs`,
    rateLimits: `${prefix}rate_limits`,
    events: `${prefix}events`,
    audit: `${prefix}audit`,
  };
}

/** How long published events stay in the events collection (only change streams read them). */
export const EVENT_TTL_SECONDS = 3600;

/**
 * Every index the store relies on, per collection. Unique indexes are how the contract's races
 * are decided (a slot fires once, one exclusive run per key, one gated active run per key);
 * the others keep each hot-path query proportional to the due work. Partial indexes hold only the
 * documents they are about, so they stay small whatever the history size.
 */
export const INDEXES: Record<keyof CollectionNames, IndexDescription[]> = {
  jobs: [
    { key: { tenantId: 1, name: 1 }, name: 'job_name_unique', unique: true },
    { key: { nextRunAt: 1, _id: 1 }, name: 'job_due', partialFilterExpression: { enabled: true } },
    {
      key: { _id: 1 },
      name: 'job_audit_outbox',
      partialFilterExpression: { auditOutbox: { $exists: true } },
    },
    {
      key: { 'firing.since': 1 },
      name: 'job_firing',
      partialFilterExpression: { firing: { $exists: true } },
    },
  ],
  runs: [
    {
      key: { dedupeKey: 1 },
      name: 'run_slot_unique',
      unique: true,
      partialFilterExpression: { dedupeKey: { $type: 'string' } },
    },
    {
      key: { concurrencyKey: 1 },
      name: 'run_exclusive_running_unique',
      unique: true,
      partialFilterExpression: { status: 'running', exclusive: true },
    },
    {
      key: { activeKey: 1 },
      name: 'run_active_gate_unique',
      unique: true,
      partialFilterExpression: { activeKey: { $exists: true } },
    },
    { key: { status: 1, priority: 1, runAt: 1, createdAt: 1, _id: 1 }, name: 'run_claim_order' },
    { key: { runAt: 1 }, name: 'run_pending_wake', partialFilterExpression: { status: 'pending' } },
    { key: { leaseUntil: 1, _id: 1 }, name: 'run_lease', partialFilterExpression: { status: 'running' } },
    { key: { concurrencyKey: 1, status: 1, runAt: 1 }, name: 'run_active_by_key' },
    { key: { createdAt: -1, _id: -1 }, name: 'run_history' },
    { key: { jobId: 1, createdAt: -1, _id: -1 }, name: 'run_history_by_job' },
    { key: { finishedAt: 1, status: 1 }, name: 'run_finished' },
    {
      key: { 'settlement.since': 1 },
      name: 'run_settlement',
      partialFilterExpression: { settlement: { $exists: true } },
    },
    {
      key: { _id: 1 },
      name: 'run_audit_outbox',
      partialFilterExpression: { auditOutbox: { $exists: true } },
    },
    { key: { 'staged.since': 1 }, name: 'run_staged', partialFilterExpression: { status: 'staged' } },
  ],
  rateLimits: [{ key: { expiresAt: 1 }, name: 'rate_limit_ttl', expireAfterSeconds: 0 }],
  events: [{ key: { at: 1 }, name: 'event_ttl', expireAfterSeconds: EVENT_TTL_SECONDS }],
  // listAudit newest first (all, per job name, per tenant) and pruneAudit by time.
  audit: [
    { key: { at: -1, _id: -1 }, name: 'audit_at' },
    { key: { job: 1, at: -1, _id: -1 }, name: 'audit_job' },
    { key: { tenantId: 1, at: -1, _id: -1 }, name: 'audit_tenant' },
    { key: { at: 1 }, name: 'audit_pending', partialFilterExpression: { pendingJobId: { $exists: true } } },
  ],
};

// NamespaceExists, WriteConflict, IndexBuildAlreadyInProgress: another instance is creating the same thing.
const RACE_CODES = new Set([48, 112, 276]);
// IndexOptionsConflict, IndexKeySpecsConflict: an index of that name exists with another definition.
const CONFLICT_CODES = new Set([85, 86]);

/** Create every index (idempotent; safe when several instances do it at once). */
export async function ensureIndexes(db: Pick<Db, 'collection'>, names: CollectionNames): Promise<void> {
  for (const role of Object.keys(INDEXES) as (keyof CollectionNames)[]) {
    const collection = db.collection(names[role]);
    for (let attempt = 1; ; attempt++) {
      try {
        await collection.createIndexes(INDEXES[role]);
        break;
      } catch (error) {
        if (isMongoError(error) && RACE_CODES.has(error.code) && attempt < 5) {
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
          continue;
        }
        if (isMongoError(error) && CONFLICT_CODES.has(error.code)) {
          throw new Error(
            `collection "${names[role]}" has an index that differs from the one this version needs ` +
              `(${error.message}); drop that index and call init() again`,
            { cause: error },
          );
        }
        throw error;
      }
    }
  }
}

/**
 * Whether the deployment answering `hello` has change streams: replica sets (`setName`) and
 * sharded clusters (`mongos` answers `msg: 'isdbgrid'`) do; a standalone server does not.
 */
export function changeStreamsSupported(hello: Document): boolean {
  return typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
}

/** Ask the server what it is: `hello`, or `isMaster` on servers older than 4.4.2. */
export async function describeDeployment(db: Pick<Db, 'command'>): Promise<Document> {
  try {
    return await db.command({ hello: 1 });
  } catch (error) {
    // CommandNotFound: a server from before `hello`.
    if (isMongoError(error) && error.code === 59) return db.command({ isMaster: 1 });
    throw error;
  }
}
