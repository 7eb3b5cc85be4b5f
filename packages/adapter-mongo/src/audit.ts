import {
  type AuditEntry,
  type AuditFilter,
  type AuditPage,
  decodeAuditCursor,
  encodeAuditCursor,
  type JsonObject,
  type NewAuditEntry,
  type TenantIds,
} from '@cronkeeper/core';
import type { Collection, Document } from 'mongodb';
import type { JobDocument, RunDocument } from './documents.js';
import { isDuplicateKey } from './driver.js';
import { NOT_STAGED, tenantFilter } from './queries.js';

/**
 * An audit entry as stored. `before` and `after` are JSON text (their keys come from users).
 * Entries travel in an `auditOutbox` array of the job or run document whose write they record, so
 * that the entry is written in the same atomic single-document write as its change; they are
 * copied here afterwards (see {@link flushOutbox}). A deletion, which leaves no document to carry
 * the entry, writes it here first with `pendingJobId`, invisible until the deletion is done.
 */
export interface AuditDocument {
  _id: string;
  at: Date;
  actor: string | null;
  action: AuditEntry['action'];
  job: string | null;
  tenantId: string | null;
  /** JSON text; a subdocument in the entries of automatic pauses (whose keys are fixed). */
  before: string | JsonObject | null;
  /** As `before`. */
  after: string | JsonObject | null;
  note: string | null;
  /** Internal: the job whose deletion this entry records, until that deletion is known done. */
  pendingJobId?: string;
}

/** A document that may carry audit entries not yet copied to the audit collection. */
export interface OutboxCarrier {
  _id: string;
  auditOutbox?: AuditDocument[];
}

/** How long a deletion may take between its entry and its delete before repair decides for it. */
export const PENDING_DELETE_GRACE_MS = 60_000;

let counter = 0;

/**
 * A new entry id: creation time, a per-process counter and randomness, as fixed-width hex, so
 * entries recorded at one instant by one process list in the order they were recorded.
 */
export function newAuditId(): string {
  counter = (counter + 1) % 0x1_0000_0000;
  const random = Math.floor(Math.random() * 0x1_0000_0000);
  return [Date.now(), counter, random]
    .map((part, index) => part.toString(16).padStart(index === 0 ? 12 : 8, '0'))
    .join('');
}

/** The stored form of an entry, with its id fixed in advance (so copying it twice is a no-op). */
export function encodeAudit(entry: NewAuditEntry, id: string = newAuditId()): AuditDocument {
  return {
    _id: id,
    at: new Date(entry.at.getTime()),
    actor: entry.actor,
    action: entry.action,
    job: entry.job,
    tenantId: entry.tenantId,
    before: entry.before === null ? null : JSON.stringify(entry.before),
    after: entry.after === null ? null : JSON.stringify(entry.after),
    note: entry.note,
  };
}

export function decodeAudit(doc: AuditDocument): AuditEntry {
  return {
    id: doc._id,
    at: new Date(doc.at.getTime()),
    actor: doc.actor,
    action: doc.action,
    job: doc.job,
    tenantId: doc.tenantId,
    before: typeof doc.before === 'string' ? JSON.parse(doc.before) : (doc.before ?? null),
    after: typeof doc.after === 'string' ? JSON.parse(doc.after) : (doc.after ?? null),
    note: doc.note,
  };
}

/** Insert entries, ignoring those already there (an earlier or concurrent copy made them). */
async function insertEntries(
  audit: Collection<AuditDocument>,
  entries: readonly AuditDocument[],
): Promise<void> {
  for (const entry of entries) {
    try {
      await audit.insertOne(entry);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }
}

/** Copy a document's outbox to the audit collection, then remove what was copied from it. */
export async function flushOutbox<T extends OutboxCarrier>(
  audit: Collection<AuditDocument>,
  carriers: Collection<T>,
  doc: OutboxCarrier,
): Promise<void> {
  const entries = doc.auditOutbox ?? [];
  if (entries.length === 0) return;
  await insertEntries(audit, entries);
  await (carriers as unknown as Collection<OutboxCarrier>).updateOne(
    { _id: doc._id },
    { $pull: { auditOutbox: { _id: { $in: entries.map((entry) => entry._id) } } } },
  );
}

/**
 * The job deletion protocol: entry first (pending), then the delete, then the entry confirmed or
 * removed. Returns whether the job was deleted.
 */
export async function deleteWithEntry(
  audit: Collection<AuditDocument>,
  entry: NewAuditEntry | undefined,
  jobId: string,
  remove: () => Promise<boolean>,
): Promise<boolean> {
  if (!entry) return remove();
  const doc = { ...encodeAudit(entry), pendingJobId: jobId };
  await audit.insertOne(doc);
  const deleted = await remove();
  if (deleted) await audit.updateOne({ _id: doc._id }, { $unset: { pendingJobId: '' } });
  else await audit.deleteOne({ _id: doc._id });
  return deleted;
}

/**
 * Finish audit work a crashed instance left: outboxes of jobs and runs are copied, and pending
 * deletion entries older than the grace are confirmed (their job is gone) or dropped (it is not).
 */
export async function repairAudit(
  audit: Collection<AuditDocument>,
  jobs: Collection<JobDocument>,
  runs: Collection<RunDocument>,
  now: Date,
  limit: number,
): Promise<void> {
  // A staged run is not a run yet (see firing.ts): its entries are copied once it is released.
  const carriers: [Collection<OutboxCarrier>, Document][] = [
    [jobs as unknown as Collection<OutboxCarrier>, {}],
    [runs as unknown as Collection<OutboxCarrier>, { status: NOT_STAGED }],
  ];
  for (const [collection, condition] of carriers) {
    const stuck = await collection
      .find({ auditOutbox: { $exists: true, $ne: [] }, ...condition }, { projection: { auditOutbox: 1 } })
      .limit(limit)
      .toArray();
    for (const doc of stuck) await flushOutbox(audit, collection, doc);
  }
  const pending = await audit
    .find({ pendingJobId: { $exists: true }, at: { $lt: new Date(now.getTime() - PENDING_DELETE_GRACE_MS) } })
    .limit(limit)
    .toArray();
  for (const entry of pending) {
    const jobStillThere =
      (await jobs.countDocuments({ _id: entry.pendingJobId as string }, { limit: 1 })) > 0;
    if (jobStillThere) await audit.deleteOne({ _id: entry._id, pendingJobId: { $exists: true } });
    else await audit.updateOne({ _id: entry._id }, { $unset: { pendingJobId: '' } });
  }
}

/** The query of one page: newest first on (at, _id), pending deletions left out. */
export function auditListQuery(filter: AuditFilter): { filter: Document; limit: number } {
  const and: Document[] = [{ pendingJobId: { $exists: false } }];
  if (filter.tenantIds !== undefined) and.push(tenantFilter(filter.tenantIds));
  if (filter.job !== undefined) and.push({ job: filter.job });
  if (filter.since !== undefined) and.push({ at: { $gte: filter.since } });
  if (filter.cursor) {
    const after = decodeAuditCursor(filter.cursor);
    const at = new Date(after.at);
    and.push({ $or: [{ at: { $lt: at } }, { at, _id: { $lt: after.id } }] });
  }
  return { filter: { $and: and }, limit: filter.limit + 1 };
}

export async function listAudit(audit: Collection<AuditDocument>, filter: AuditFilter): Promise<AuditPage> {
  const query = auditListQuery(filter);
  const limit = Math.max(0, filter.limit);
  if (limit === 0) return { items: [], nextCursor: null };
  const docs = await audit.find(query.filter).sort({ at: -1, _id: -1 }).limit(query.limit).toArray();
  const items = docs.slice(0, limit).map(decodeAudit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor:
      docs.length > limit && last ? encodeAuditCursor({ at: last.at.getTime(), id: last.id }) : null,
  };
}

export async function pruneAudit(
  audit: Collection<AuditDocument>,
  input: { before: Date; tenantIds?: TenantIds },
): Promise<number> {
  const result = await audit.deleteMany({
    at: { $lt: input.before },
    pendingJobId: { $exists: false },
    ...tenantFilter(input.tenantIds),
  });
  return result.deletedCount;
}
