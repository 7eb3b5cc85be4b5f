import { redisStore } from '@cronkeeper/adapter-redis';
import type { FinishRunInput, Store } from '@cronkeeper/core';
import { at, newRun } from '@cronkeeper/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyLayout } from '../src/keys.js';
import { checkIndexes } from './invariants.js';
import { connect, deleteKeysUnder, redisAvailable, uniquePrefix } from './redis.js';

// A backlog queued on one concurrency key (one-offs of a job-less executor, say) drains one run
// at a time. Each run's end must release one queued run, not move the whole backlog back to the
// claim order: that made draining n queued runs cost O(n²) and stalled the server.
// At most 1 000: a claim moves up to 1 000 due runs into the claim order at a time, taking runs of
// one instant in id order, so a larger backlog of one instant is not claimed by creation time.
const BACKLOG = 1000;
const KEY = 'executor:send-email';

describe.skipIf(!redisAvailable)('redis store: a backlog queued on one key', () => {
  let client: Redis;
  const prefixes: string[] = [];

  const open = async (label: string): Promise<{ store: Store; root: string; prefix: string }> => {
    const prefix = uniquePrefix(label);
    prefixes.push(prefix);
    const store = redisStore({ redis: client, prefix });
    await store.init();
    return { store, root: new KeyLayout(prefix).root, prefix };
  };

  const queue = (store: Store, count: number) =>
    store.createRuns(
      Array.from({ length: count }, (_, index) => ({
        run: newRun({ concurrencyKey: KEY, overlap: 'queue', runAt: at(-1000), createdAt: at(index) }),
        now: at(0),
        rejectIfActive: false,
      })),
    );

  const succeeded = (runId: string, ms: number): FinishRunInput => ({
    runId,
    fence: { workerId: 'w1' },
    now: at(ms),
    status: 'succeeded',
    result: null,
    error: null,
  });

  beforeAll(() => {
    client = connect();
  });

  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysUnder(client, prefix);
    await client?.quit();
  });

  it('releases one queued run per finished run, in claim order, and drains the backlog', async () => {
    const { store, root, prefix } = await open('backlog');
    const created = await queue(store, BACKLOG);
    const ids = created.map((result) => result.run.id);

    const claimed: string[] = [];
    for (let claim = 0; claim < 3; claim++) {
      const result = await store.claimRuns({ workerId: 'w1', now: at(0), limit: 1000, leaseMs: 60_000 });
      claimed.push(...result.claimed.map((run) => run.id));
    }
    expect(claimed).toEqual([ids[0]]);
    expect(await client.zcard(`${root}runs:parked:${KEY}`)).toBe(BACKLOG - 1);

    let running = ids[0] as string;
    for (let index = 1; index < 6; index++) {
      const result = await store.finishAndClaim({
        finishes: [succeeded(running, index)],
        claim: { workerId: 'w1', now: at(index), limit: 10, leaseMs: 60_000 },
      });
      expect(result.finished[0]?.status).toBe('succeeded');
      // Only the next run came back to the claim order; the rest stayed parked.
      expect(result.claimed.map((run) => run.id)).toEqual([ids[index]]);
      expect(await client.zcard(`${root}runs:ready`)).toBe(0);
      expect(await client.zcard(`${root}runs:parked:${KEY}`)).toBe(BACKLOG - 1 - index);
      running = ids[index] as string;
    }
    expect(await checkIndexes(client, prefix)).toEqual([]);
  });

  it('releases the next queued run when the released one is cancelled before it starts', async () => {
    const { store, prefix } = await open('backlog-cancel');
    const ids = (await queue(store, 3)).map((result) => result.run.id);
    await store.claimRuns({ workerId: 'w1', now: at(0), limit: 3, leaseMs: 60_000 });
    await store.finishRuns([succeeded(ids[0] as string, 1)]);
    expect((await store.cancelRun({ runId: ids[1] as string, now: at(2), by: null }))?.status).toBe(
      'cancelled',
    );
    const claim = await store.claimRuns({ workerId: 'w2', now: at(3), limit: 3, leaseMs: 60_000 });
    expect(claim.claimed.map((run) => run.id)).toEqual([ids[2]]);
    expect(await checkIndexes(client, prefix)).toEqual([]);
  });

  it('releases runs parked by an earlier version (a set of ids) when their key frees', async () => {
    const { store, root, prefix } = await open('backlog-legacy');
    const ids = (await queue(store, 3)).map((result) => result.run.id);
    await store.claimRuns({ workerId: 'w1', now: at(0), limit: 3, leaseMs: 60_000 });
    // What a store of the previous version left behind: the queued runs' ids in a plain set.
    await client.del(`${root}runs:parked:${KEY}`);
    await client.sadd(`${root}runs:blocked:${KEY}`, ids[1] as string, ids[2] as string);

    const claim = await store.finishAndClaim({
      finishes: [succeeded(ids[0] as string, 1)],
      claim: { workerId: 'w1', now: at(1), limit: 3, leaseMs: 60_000 },
    });
    expect(claim.claimed.map((run) => run.id)).toEqual([ids[1]]);
    expect(await client.exists(`${root}runs:blocked:${KEY}`)).toBe(0);
    // The other one was parked again the new way, and is next.
    expect(await client.zcard(`${root}runs:parked:${KEY}`)).toBe(1);
    expect(await checkIndexes(client, prefix)).toEqual([]);
  });
});
