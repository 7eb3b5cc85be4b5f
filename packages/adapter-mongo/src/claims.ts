import type { ClaimResult, Run } from '@cronkeeper/core';
import type { Collection, Document } from 'mongodb';
import { decodeRun, type RunDocument } from './documents.js';
import { isDuplicateKey } from './driver.js';
import { CLAIM_ORDER, claimFilter, claimUpdate, endPendingUpdate, OVERLAP_ERROR } from './queries.js';

const AFTER = { returnDocument: 'after' } as const;
/** Rounds of one call beyond `limit`: each skips a run or parks a busy key, so the loop always ends. */
const EXTRA_ROUNDS = 100;

/**
 * Claim up to `limit` due runs, one atomic `findOneAndUpdate` (pick the first in claim order and
 * make it running) per run. The unique partial index on running exclusive runs refuses a second
 * running run of a key with E11000; the run first in line is then looked up and handled by its
 * overlap policy: `skip` → skipped, `queue` → its key is left out for the rest of this call.
 */
export async function claimDueRuns(
  runs: Collection<RunDocument>,
  input: { workerId: string; now: Date; limit: number; leaseMs: number },
): Promise<ClaimResult> {
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
  return { claimed, skipped };
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
