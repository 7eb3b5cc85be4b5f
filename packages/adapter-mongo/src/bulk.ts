import { randomUUID } from 'node:crypto';
import type { CreateRunResult, Job, NewAuditEntry, NewJob, NewRun } from '@cronkeeper/core';
import type { Collection, Document } from 'mongodb';
import { type AuditDocument, encodeAudit } from './audit.js';
import {
  decodeJob,
  decodeRun,
  encodeNewJob,
  encodeNewRun,
  type JobDocument,
  type RunDocument,
} from './documents.js';

/** Documents per `insertMany`: one round trip each, well under the server's message size. */
export const RUN_CHUNK = 1_000;
export const JOB_CHUNK = 1_000;

/**
 * Insert `docs` unordered, so one refused document does not stop the rest. Returns the indexes
 * refused by a unique index (a name or dedupe key already taken); any other failure is thrown.
 */
async function insertSkippingTaken<T extends Document>(
  collection: Collection<T>,
  docs: T[],
): Promise<Set<number>> {
  if (docs.length === 0) return new Set();
  try {
    await (collection as unknown as Collection<Document>).insertMany(docs, { ordered: false });
    return new Set();
  } catch (error) {
    const reported = (error as { writeErrors?: unknown }).writeErrors;
    const list = (Array.isArray(reported) ? reported : reported === undefined ? [] : [reported]) as {
      index?: unknown;
      code?: unknown;
    }[];
    const taken = list.every((entry) => entry.code === 11000 || entry.code === 11001);
    if (list.length === 0 || !taken) throw error;
    return new Set(list.map((entry) => Number(entry.index)));
  }
}

/** Create a chunk of plain runs (dedupe keys distinct): a key already held answers its holder. */
export async function writeRuns(runs: Collection<RunDocument>, chunk: NewRun[]): Promise<CreateRunResult[]> {
  const keys = chunk.flatMap((run) => (run.dedupeKey === null ? [] : [run.dedupeKey]));
  const holders = new Map<string, RunDocument>();
  const readHolders = async (wanted: string[]) => {
    if (wanted.length === 0) return;
    const found = await runs.find({ dedupeKey: { $in: wanted, $type: 'string' } }).toArray();
    for (const doc of found) holders.set(doc.dedupeKey as string, doc);
  };
  await readHolders(keys);
  const fresh = chunk.flatMap((run, index) =>
    run.dedupeKey !== null && holders.has(run.dedupeKey)
      ? []
      : [{ index, doc: encodeNewRun(run, randomUUID()) }],
  );
  const refused = await insertSkippingTaken(
    runs,
    fresh.map((entry) => entry.doc),
  );
  // Taken by a concurrent caller between the read and the insert.
  await readHolders(fresh.filter((_, at) => refused.has(at)).map((entry) => entry.doc.dedupeKey as string));
  const created = new Map(fresh.filter((_, at) => !refused.has(at)).map((entry) => [entry.index, entry.doc]));
  return chunk.map((run, index): CreateRunResult => {
    const doc = created.get(index);
    if (doc) return { created: true, run: decodeRun(doc) };
    const holder = holders.get(run.dedupeKey as string);
    if (!holder)
      throw new Error(`createRuns: run with dedupe key "${run.dedupeKey}" neither created nor found`);
    return { created: false, reason: 'duplicate', run: decodeRun(holder) };
  });
}

/**
 * Insert a chunk of jobs (names distinct): a name taken is refused by the unique index. Audit
 * entries ride in their job's document and are copied out afterwards, as `insertJob` does, here
 * for the whole chunk at once.
 */
export async function writeJobs(
  jobs: Collection<JobDocument>,
  audit: Collection<AuditDocument>,
  chunk: NewJob[],
  audits: (NewAuditEntry | undefined)[],
): Promise<(Job | null)[]> {
  const docs = chunk.map((job, index) => {
    const doc = encodeNewJob(job, randomUUID());
    const entry = audits[index];
    if (entry) doc.auditOutbox = [encodeAudit(entry)];
    return doc;
  });
  const refused = await insertSkippingTaken(jobs, docs);
  const inserted = docs.filter((_, index) => !refused.has(index));
  const entries = inserted.flatMap((doc) => doc.auditOutbox ?? []);
  if (entries.length > 0) {
    // An entry already there was copied by a repair that ran meanwhile.
    await insertSkippingTaken(audit, entries);
    const pull: Document = { $pull: { auditOutbox: { _id: { $in: entries.map((entry) => entry._id) } } } };
    await (jobs as unknown as Collection<Document>).updateMany(
      { _id: { $in: inserted.map((doc) => doc._id) } } as Document,
      pull,
    );
  }
  return docs.map((doc, index) => (refused.has(index) ? null : decodeJob(doc)));
}
