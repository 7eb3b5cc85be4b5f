import type { Run } from '@cronkeeper/core';
import type { Collection, Document } from 'mongodb';
import { decodeRun, type JobDocument, type RunDocument } from './documents.js';
import { isDuplicateKey } from './driver.js';
import { bookkeepingUpdate, type Finish, finishPipeline } from './queries.js';

/**
 * Finishing a run touches up to three documents (the run, its job, a follow-up retry) and needs
 * no transaction: the fenced write on the run decides (one caller wins) and records what is left
 * to do as `settlement`; the job's bookkeeping and the follow-up insert are idempotent, and the
 * `settlement` is removed last. A process that dies in between leaves the `settlement` for
 * {@link repairSettlements} to finish on any instance.
 */
export async function finishAndSettle(
  runs: Collection<RunDocument>,
  jobs: Collection<JobDocument>,
  filter: Document,
  finish: Finish,
): Promise<Run | null> {
  const doc = await runs.findOneAndUpdate(filter, finishPipeline(finish), { returnDocument: 'after' });
  if (!doc) return null;
  await settle(runs, jobs, doc);
  return decodeRun(doc);
}

/** Do a finished run's remaining work; safe to repeat, and to race with another instance doing it. */
export async function settle(
  runs: Collection<RunDocument>,
  jobs: Collection<JobDocument>,
  doc: RunDocument,
): Promise<void> {
  if (!doc.settlement) return;
  if (doc.jobId !== null) {
    const { filter, update } = bookkeepingUpdate(doc);
    await jobs.updateOne(filter, update);
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
}

/** Finish the oldest settlements left behind by processes that died mid-way, at most `limit`. */
export async function repairSettlements(
  runs: Collection<RunDocument>,
  jobs: Collection<JobDocument>,
  limit: number,
): Promise<void> {
  const interrupted = await runs
    .find({ settlement: { $exists: true } })
    .sort({ 'settlement.since': 1 })
    .limit(limit)
    .toArray();
  for (const doc of interrupted) await settle(runs, jobs, doc);
}
