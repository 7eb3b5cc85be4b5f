import type { FinishedRun } from '@cronkeeper/core';
import type { Collection, Document } from 'mongodb';
import { type AuditDocument, flushOutbox } from './audit.js';
import { decodeRun, type JobDocument, type RunDocument } from './documents.js';
import { isDuplicateKey } from './driver.js';
import { bookkeepingUpdate, type Finish, finishPipeline } from './queries.js';

/**
 * Finishing a run touches up to three documents (the run, its job, a follow-up retry) and needs
 * no transaction: the fenced write on the run decides (one caller wins) and records what is left
 * to do as `settlement`; the job's bookkeeping and the follow-up insert are idempotent, and the
 * `settlement` is removed last. A process that dies in between leaves the `settlement` for
 * {@link repairSettlements} to finish on any instance.
 *
 * The bookkeeping is idempotent because the job lists the run's id among those it counted, and
 * keeps it there until the run's `settlement` is gone: however late a repair comes, and however
 * many runs of the job finish before it, it finds the id and counts nothing. Only then is the id
 * taken off the job (a crash just before that leaves it there, harmless).
 */
export async function finishAndSettle(
  collections: SettlementCollections,
  filter: Document,
  finish: Finish,
): Promise<FinishedRun | null> {
  const doc = await collections.runs.findOneAndUpdate(filter, finishPipeline(finish), {
    returnDocument: 'after',
  });
  if (!doc) return null;
  const paused = await settle(collections, doc);
  const run: FinishedRun = decodeRun(doc);
  if (paused) run.pausedJob = true;
  return run;
}

/** The collections a settlement touches. */
export interface SettlementCollections {
  runs: Collection<RunDocument>;
  jobs: Collection<JobDocument>;
  audit: Collection<AuditDocument>;
}

/**
 * Do a finished run's remaining work; safe to repeat, and to race with another instance doing it.
 * True when this settlement's bookkeeping write paused the job (see `bookkeepingUpdate`).
 */
export async function settle(collections: SettlementCollections, doc: RunDocument): Promise<boolean> {
  const { runs, jobs, audit } = collections;
  if (!doc.settlement) return false;
  let paused = false;
  if (doc.jobId !== null) {
    const { filter, update } = bookkeepingUpdate(doc);
    const job = await jobs.findOneAndUpdate(filter, update, { returnDocument: 'after' });
    const pauseId = doc.settlement.pauseAuditId;
    paused = pauseId !== undefined && (job?.auditOutbox ?? []).some((entry) => entry._id === pauseId);
    if (job) await flushOutbox(audit, jobs, job);
  }
  const followUp = doc.settlement.followUp;
  if (followUp) {
    try {
      await runs.insertOne(followUp);
    } catch (error) {
      // Its id or dedupe key exists: an earlier attempt inserted it, or another run holds the key.
      if (!isDuplicateKey(error)) throw error;
    }
  }
  await runs.updateOne({ _id: doc._id }, { $unset: { settlement: '' } });
  if (doc.jobId !== null) await jobs.updateOne({ _id: doc.jobId }, { $pull: { countedRunIds: doc._id } });
  return paused;
}

/**
 * How old a settlement must be before another instance finishes it: its own process normally
 * does so within milliseconds, and repairing it meanwhile would race that process. (A repair that
 * does race it stays harmless unless that process then stalls between two writes for longer
 * than the whole settlement takes.)
 */
export const REPAIR_AFTER_MS = 10_000;

/** Finish the oldest settlements left behind by processes that died mid-way, at most `limit`. */
export async function repairSettlements(
  collections: SettlementCollections,
  limit: number,
  now: Date,
): Promise<void> {
  const interrupted = await collections.runs
    .find({
      settlement: { $exists: true },
      'settlement.since': { $lt: new Date(now.getTime() - REPAIR_AFTER_MS) },
    })
    .sort({ 'settlement.since': 1 })
    .limit(limit)
    .toArray();
  for (const doc of interrupted) await settle(collections, doc);
}
