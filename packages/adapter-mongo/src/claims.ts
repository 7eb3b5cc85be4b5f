import type { ClaimResult, Run } from '@cronkeeper/core';
import type { Collection, Document } from 'mongodb';
import { decodeRun, type RunDocument } from './documents.js';
import { isDuplicateKey } from './driver.js';
import { CLAIM_ORDER, claimFilter, claimUpdate, endPendingUpdate, OVERLAP_ERROR } from './queries.js';
import { finishAndSettle, type SettlementCollections } from './settlement.js';

const AFTER = { returnDocument: 'after' } as const;
/** Rounds of one call beyond `limit`: each skips a run or parks a busy key, so the loop always ends. */
const EXTRA_ROUNDS = 100;

/**
 * Claim up to `limit` due runs, one atomic `findOneAndUpdate` (pick the first in claim order and
 * make it running) per run. The unique partial index on running exclusive runs refuses a second
 * running run of a key with E11000; the run first in line is then looked up and handled by its
 * overlap policy: `skip` → skipped, `queue` → its key is left out for the rest of this call.
 * Claimed runs of jobs that no longer exist are cancelled instead of returned (see
 * {@link cancelOrphans}).
 */
export async function claimDueRuns(
  collections: SettlementCollections,
  input: { workerId: string; now: Date; limit: number; leaseMs: number },
): Promise<ClaimResult> {
  const { runs } = collections;
  const claimed: Run[] = [];
  const skipped: Run[] = [];
  const busy = new Set<string>();
  const update = claimUpdate(input.workerId, input.now, input.leaseMs);
  for (let round = 0; claimed.length < input.limit && round < input.limit + EXTRA_ROUNDS; round++) {
    const filter = claimFilter(input.now, busy);
    try {
      const doc = await runs.findOneAndUpdate(filter, update, { ...AFTER, sort: CLAIM_ORDER });
      if (!doc) break;
      claimed.push(decodeRun(doc));
      continue;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const blocked = await runs.findOne(filter, { sort: CLAIM_ORDER });
    if (!blocked) break;
    const outcome = await claimBlocked(runs, blocked, update, input.now);
    if (outcome === 'busy') busy.add(blocked.concurrencyKey);
    else if (outcome?.status === 'running') claimed.push(outcome);
    else if (outcome) skipped.push(outcome);
  }
  return { claimed: await cancelOrphans(collections, claimed, input), skipped };
}

/**
 * The claimed runs whose job still exists; the others are cancelled (code `job_deleted`), fenced
 * like any finish by this worker's claim, and never executed. `deleteJob` deletes the job and then
 * cancels its pending runs: a crash between the two, or a run created for the job while it was
 * being deleted (a slot, a trigger, a retry), would otherwise leave a pending run of a deleted job
 * to be claimed and run. One read of the jobs per claim call.
 */
async function cancelOrphans(
  collections: SettlementCollections,
  claimed: Run[],
  input: { workerId: string; now: Date },
): Promise<Run[]> {
  const jobIds = [...new Set(claimed.map((run) => run.jobId).filter((id): id is string => id !== null))];
  if (jobIds.length === 0) return claimed;
  const { jobs } = collections;
  const existing = new Set(
    (await jobs.find({ _id: { $in: jobIds } }, { projection: { _id: 1 } }).toArray()).map((job) => job._id),
  );
  const kept: Run[] = [];
  for (const run of claimed) {
    if (run.jobId === null || existing.has(run.jobId)) {
      kept.push(run);
      continue;
    }
    await finishAndSettle(
      collections,
      { _id: run.id, status: 'running', workerId: input.workerId },
      {
        now: input.now,
        status: 'cancelled',
        result: null,
        error: { code: 'job_deleted', message: `job "${run.jobName ?? run.jobId}" was deleted` },
        followUp: null,
      },
    );
  }
  return kept;
}

/**
 * The run first in line when a claim hit E11000: claim it by id (its key may have freed), or, if
 * its key is still busy, skip it (overlap `skip`) or report the key busy (`queue`). Null when
 * another caller took or ended it first.
 */
async function claimBlocked(
  runs: Collection<RunDocument>,
  blocked: RunDocument,
  update: Document,
  now: Date,
): Promise<Run | 'busy' | null> {
  const pending = { _id: blocked._id, status: 'pending' as const };
  try {
    const doc = await runs.findOneAndUpdate(pending, update, AFTER);
    return doc ? decodeRun(doc) : null;
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
  if (blocked.overlap !== 'skip') return 'busy';
  const doc = await runs.findOneAndUpdate(pending, endPendingUpdate('skipped', now, OVERLAP_ERROR), AFTER);
  return doc ? decodeRun(doc) : null;
}
