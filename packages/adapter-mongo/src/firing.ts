import { randomUUID } from 'node:crypto';
import type { FireSlotInput, FireSlotResult, Run } from '@cronkeeper/core';
import type { Collection } from 'mongodb';
import { decodeRun, encodeNewRun, type JobDocument, type RunDocument } from './documents.js';
import { isDuplicateKey } from './driver.js';

/**
 * Firing a slot without a transaction, so that no caller but the one that advanced the job can
 * make the slot's runs claimable. A caller inserts its runs *staged* (status `staged`, no dedupe
 * key: invisible to reads and claims, and in no unique index), then compare-and-sets the job's
 * `nextRunAt`, recording its token as the job's `firing`. The winner releases its staged runs
 * (each takes its status and dedupe key in one conditional write on that run), then clears
 * `firing`; a loser deletes its staged runs.
 *
 * Whatever a caller does late, it can only release runs under its own token, and only a token
 * that won the compare-and-set is ever released: a caller delayed past the moment its slot fired,
 * ran and was pruned inserts staged runs that nobody releases. A crash at any step is finished by
 * {@link repairFirings}: a job's leftover `firing` releases that token's runs; staged runs whose
 * job moved past their slot under another token are deleted.
 */

const AFTER = { returnDocument: 'after' } as const;

/** Staged runs repaired per pass at most. */
const REPAIR_BATCH = 100;

function staged(run: RunDocument, token: string, input: FireSlotInput): RunDocument {
  return {
    ...run,
    status: 'staged',
    dedupeKey: null,
    staged: {
      token,
      expected: input.expectedNextRunAt,
      since: input.now,
      status: run.status as Run['status'],
      dedupeKey: run.dedupeKey,
    },
  };
}

/**
 * Make one staged run of `token` a run: its status and dedupe key restored in one write that only
 * applies while it is still staged under that token. Null when it was released already (by a
 * repair, or the firing caller) or deleted; a run holding its dedupe key already means the slot
 * has its run, and the staged copy is dropped.
 */
async function release(runs: Collection<RunDocument>, doc: RunDocument, token: string): Promise<Run | null> {
  const stage = doc.staged;
  if (!stage) return null;
  const mine = { _id: doc._id, status: 'staged' as const, 'staged.token': token };
  try {
    const released = await runs.findOneAndUpdate(
      mine,
      { $set: { status: stage.status, dedupeKey: stage.dedupeKey }, $unset: { staged: '' } },
      AFTER,
    );
    return released ? decodeRun(released) : null;
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    await runs.deleteOne(mine);
    return null;
  }
}

/** Release every staged run of `token` and clear the job's `firing` if it is still that token's. */
async function completeFiring(
  runs: Collection<RunDocument>,
  jobs: Collection<JobDocument>,
  jobId: string,
  token: string,
  docs?: RunDocument[],
): Promise<Run[]> {
  const pending = docs ?? (await runs.find({ status: 'staged', 'staged.token': token }).toArray());
  const created: Run[] = [];
  for (const doc of pending) {
    const run = await release(runs, doc, token);
    if (run) created.push(run);
  }
  await jobs.updateOne({ _id: jobId, 'firing.token': token }, { $unset: { firing: '' } });
  return created;
}

/** Fire one job's slot: see the module comment. */
export async function fireSlot(
  runs: Collection<RunDocument>,
  jobs: Collection<JobDocument>,
  input: FireSlotInput,
): Promise<FireSlotResult> {
  const slot = { _id: input.jobId, nextRunAt: input.expectedNextRunAt, firing: { $exists: false } };
  // A cheap early exit for a caller whose read is already stale; the compare-and-set decides.
  if ((await jobs.countDocuments(slot, { limit: 1 })) === 0) return { advanced: false, created: [] };
  const token = randomUUID();
  const docs = input.runs.map((run) => staged(encodeNewRun(run, randomUUID()), token, input));
  if (docs.length > 0) await runs.insertMany(docs);
  const won = await jobs.updateOne(slot, {
    $set: { nextRunAt: input.nextRunAt, firing: { token, since: input.now } },
  });
  if (won.matchedCount === 0) {
    if (docs.length > 0) await runs.deleteMany({ status: 'staged', 'staged.token': token });
    return { advanced: false, created: [] };
  }
  return { advanced: true, created: await completeFiring(runs, jobs, input.jobId, token, docs) };
}

/**
 * Finish what crashed (or stalled) firings left: release the runs of a token a job still records
 * as its `firing`, and delete staged runs whose caller lost (their job is gone, or moved past
 * their slot without recording their token). Safe alongside the callers themselves: every write is
 * conditional on the run still being staged under its token.
 */
export async function repairFirings(
  runs: Collection<RunDocument>,
  jobs: Collection<JobDocument>,
): Promise<void> {
  const stuck = await jobs
    .find({ firing: { $exists: true } }, { projection: { _id: 1, firing: 1 } })
    .sort({ 'firing.since': 1 })
    .limit(REPAIR_BATCH)
    .toArray();
  for (const job of stuck) if (job.firing) await completeFiring(runs, jobs, job._id, job.firing.token);

  const leftovers = await runs
    .find({ status: 'staged' })
    .sort({ 'staged.since': 1 })
    .limit(REPAIR_BATCH)
    .toArray();
  const tokens = new Map<string, RunDocument>();
  for (const doc of leftovers)
    if (doc.staged && !tokens.has(doc.staged.token)) tokens.set(doc.staged.token, doc);
  for (const [token, doc] of tokens) {
    const job =
      doc.jobId === null
        ? null
        : await jobs.findOne({ _id: doc.jobId }, { projection: { _id: 1, nextRunAt: 1, firing: 1 } });
    if (job?.firing?.token === token) {
      await completeFiring(runs, jobs, job._id, token);
      continue;
    }
    // Still at the slot this caller expected: it may yet win; leave it to the caller.
    const expected = doc.staged?.expected.getTime();
    if (job && job.nextRunAt?.getTime() === expected) continue;
    await runs.deleteMany({ status: 'staged', 'staged.token': token });
  }
}
