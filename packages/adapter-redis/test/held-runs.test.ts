import { redisStore } from '@cronkeeper/adapter-redis';
import type { Run, Store } from '@cronkeeper/core';
import { at, newRun, SECOND, T0 } from '@cronkeeper/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeldRuns } from '../src/claim-finish.js';
import { connect, deleteKeysUnder, redisAvailable, uniquePrefix } from './redis.js';

// A store answers the finish of a run it claimed from the fields it holds since the claim, plus
// what the finish script says changed. Another instance holds nothing and gets the whole record;
// both answers must be the run as a read then gives it.
const prefix = uniquePrefix('held-runs');
let client: Redis;
let claimer: Store;
let other: Store;

async function claimOne(store: Store, now: Date): Promise<Run> {
  await store.createRun({ run: newRun({ runAt: T0, overlap: 'allow' }), now: T0, rejectIfActive: false });
  const { claimed } = await store.claimRuns({ workerId: 'w', now, limit: 1, leaseMs: 30 * SECOND });
  expect(claimed).toHaveLength(1);
  return claimed[0] as Run;
}

describe.skipIf(!redisAvailable)('redis: finishing runs this instance claimed', () => {
  beforeAll(async () => {
    client = connect();
    claimer = redisStore({ redis: client, prefix });
    other = redisStore({ redis: client, prefix });
    await claimer.init();
  });

  afterAll(async () => {
    await deleteKeysUnder(client, prefix);
    await client.quit();
  });

  it('answers the same run whether the finishing instance claimed it or not', async () => {
    const mine = await claimOne(claimer, at(SECOND));
    const theirs = await claimOne(claimer, at(SECOND));
    // Changes another instance makes between the claim and the finish.
    await other.cancelRun({ runId: mine.id, now: at(2 * SECOND), by: 'ops' });
    await other.renewLease({
      runId: theirs.id,
      workerId: 'w',
      now: at(2 * SECOND),
      leaseMs: 30 * SECOND,
      progress: { percent: 40, note: 'still going' },
    });
    const finish = (run: Run) => ({
      runId: run.id,
      fence: { workerId: 'w' },
      now: at(3 * SECOND),
      status: 'succeeded' as const,
      result: { id: run.id },
      error: null,
    });
    const [byClaimer] = await claimer.finishRuns([finish(mine)]);
    const [byOther] = await other.finishRuns([finish(theirs)]);
    expect(byClaimer).toEqual(await claimer.getRun(mine.id));
    expect(byClaimer?.cancelRequested).toBe(true);
    expect(byOther).toEqual(await claimer.getRun(theirs.id));
    expect(byOther?.progress).toEqual({ percent: 40, note: 'still going' });
    // A finish the fence refuses answers nothing, held or not.
    expect(await claimer.finishRuns([finish(theirs)])).toEqual([null]);
  });

  it('holds a bounded number of claimed runs, dropping the oldest first', () => {
    const held = new HeldRuns();
    const texts = (n: number) => ({ id: `run-${n}`, startedAt: String(n) });
    for (let n = 0; n <= 4_096; n += 1) held.hold(texts(n));
    expect(held.size).toBe(4_096);
    expect(held.startedAtOf('run-0')).toBe('');
    expect(held.startedAtOf('run-1')).toBe('1');
    expect(held.release('run-4096')).toEqual(texts(4_096));
    expect(held.startedAtOf('run-4096')).toBe('');
  });
});
