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
 *
 * The bookkeeping is idempotent because the job lists the run's id among those it counted, and
 * keeps it there until the run's `settlement` is gone: however late a repair comes, and however
 * many runs of the job finish before it, it finds the id and counts nothing. Only then is the id
 * taken off the job (a crash just before that leaves it there, harmless).
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
  if (doc.jobId !== null) await jobs.updateOne({ _id: doc.jobId }, { $pull: { countedRunIds: doc._id } });
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
  runs: Collection<RunDocument>,
  jobs: Collection<JobDocument>,
  limit: number,
  now: Date,
): Promise<void> {
  const interrupted = await runs
    .find({
      settlement: { $exists: true },
      'settlement.since': { $lt: new Date(now.getTime() - REPAIR_AFTER_MS) },
    })
    .sort({ 'settlement.since': 1 })
    .limit(limit)
    .toArray();
  for (const doc of interrupted) await settle(runs, jobs, doc);
}
