import { describe, expect, it } from 'vitest';
import type { Store } from '../store.js';
import type { Run } from '../types.js';
import type { ContractFixture } from './harness.js';
import { at, MINUTE, SECOND, T0 } from './records.js';
import {
  allRuns,
  claimExactly,
  createRun,
  finish,
  idsOf,
  LEASE_MS,
  race,
  storedValueIncludes,
} from './steps.js';

const claim = (store: Store, now: Date, limit = 100, workerId = 'worker-1') =>
  store.claimRuns({ workerId, now, limit, leaseMs: LEASE_MS });

/** Running runs grouped by concurrency key, counting only exclusive (non-`allow`) ones. */
async function exclusiveRunningPerKey(store: Store): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const run of await allRuns(store, { statuses: ['running'] })) {
    if (run.overlap === 'allow') continue;
    counts.set(run.concurrencyKey, (counts.get(run.concurrencyKey) ?? 0) + 1);
  }
  return counts;
}

/** claimRuns: order, leases, the overlap policy, and exactly-once claiming under races. */
export function claimContract(fixture: () => ContractFixture): void {
  describe('claimRuns', () => {
    it('claims by priority, then runAt, then createdAt, and only runs with runAt <= now', async () => {
      const { store } = fixture();
      const low = await createRun(store, { priority: 1, runAt: at(-3 * MINUTE) });
      const later = await createRun(store, { priority: 0, runAt: at(-MINUTE) });
      // Same priority and runAt, created in shuffled order: only createdAt can order them.
      const sameSlot = [];
      for (const minutes of [3, 5, 1, 4, 2]) {
        sameSlot.push(
          await createRun(store, { priority: 0, runAt: at(-2 * MINUTE), createdAt: at(-minutes * MINUTE) }),
        );
      }
      const byCreation = [...sameSlot].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
      const urgent = await createRun(store, { priority: -1, runAt: T0 });
      await createRun(store, { priority: -5, runAt: at(1) });
      const order: Run[] = [];
      for (let step = 0; step < 10; step++) {
        const { claimed } = await claim(store, T0, 1);
        order.push(...claimed);
      }
      expect(order.map((run) => run.id)).toEqual([
        urgent.id,
        ...byCreation.map((run) => run.id),
        later.id,
        low.id,
      ]);
    });

    it('returns at most limit runs, the first ones in claim order', async () => {
      const { store } = fixture();
      const runs = [];
      for (let index = 0; index < 5; index++)
        runs.push(await createRun(store, { runAt: at(index * SECOND) }));
      const first = await claim(store, at(MINUTE), 3);
      expect(idsOf(first.claimed)).toEqual(idsOf(runs.slice(0, 3)));
      const rest = await claim(store, at(MINUTE), 3);
      expect(idsOf(rest.claimed)).toEqual(idsOf(runs.slice(3)));
      expect((await claim(store, at(MINUTE), 3)).claimed).toEqual([]);
    });

    it("starts a run no earlier than its runAt by the claimer's clock, whatever the creator's clock said", async () => {
      const { store } = fixture();
      // Created by an instance whose clock runs two minutes ahead: due by that clock.
      const early = await createRun(store, { runAt: at(MINUTE), createdAt: at(2 * MINUTE) }, at(2 * MINUTE));
      const due = await createRun(store, { runAt: T0 }, at(2 * MINUTE));
      expect(idsOf((await claim(store, T0)).claimed)).toEqual([due.id]);
      expect((await claim(store, at(MINUTE - SECOND))).claimed).toEqual([]);
      expect(idsOf((await claim(store, at(MINUTE))).claimed)).toEqual([early.id]);
    });

    it('makes a claimed run running with workerId, startedAt = now and leaseUntil = now + leaseMs', async () => {
      const { store, inspect } = fixture();
      const run = await createRun(store, { runAt: at(-MINUTE) });
      const now = at(5 * SECOND);
      const { claimed, skipped } = await store.claimRuns({
        workerId: 'worker-a',
        now,
        limit: 10,
        leaseMs: 45 * SECOND,
      });
      expect(skipped).toEqual([]);
      expect(claimed).toEqual([
        { ...run, status: 'running', workerId: 'worker-a', startedAt: now, leaseUntil: at(50 * SECOND) },
      ]);
      expect(await store.getRun(run.id)).toEqual(claimed[0]);
      if (inspect) expect(storedValueIncludes(await inspect.run(run.id), 'worker-a')).toBe(true);
    });

    it('never claims cancelled or finished runs', async () => {
      const { store } = fixture();
      const cancelled = await createRun(store);
      await store.cancelRun({ runId: cancelled.id, now: T0, by: 'ops' });
      const done = await claimExactly(store, await createRun(store));
      await finish(store, done, 'succeeded', at(SECOND));
      expect((await claim(store, at(MINUTE))).claimed).toEqual([]);
    });

    it('claims each of 50 runs exactly once when 10 claimers on 2 instances race', async () => {
      const stores = await fixture().instances(2);
      const created = [];
      for (let index = 0; index < 50; index++)
        created.push(await createRun(stores[0] as Store, { runAt: at(-index) }));
      const claimedBy = new Map<string, string>();
      for (let round = 0; round < 10 && claimedBy.size < 50; round++) {
        const results = await race(stores, 10, (store, index) =>
          store.claimRuns({ workerId: `worker-${index}`, now: T0, limit: 10, leaseMs: LEASE_MS }),
        );
        results.forEach((result, index) => {
          for (const run of result.claimed) {
            expect(claimedBy.has(run.id), `run ${run.id} claimed twice`).toBe(false);
            claimedBy.set(run.id, `worker-${index}`);
            expect(run.workerId).toBe(`worker-${index}`);
          }
        });
      }
      expect([...claimedBy.keys()].sort()).toEqual(idsOf(created));
      for (const run of await allRuns(fixture().store)) {
        expect(run.status).toBe('running');
        expect(run.workerId).toBe(claimedBy.get(run.id));
      }
    });
  });

  describe('claimRuns overlap policy', () => {
    it('queue: a second run of a busy key stays pending and is claimed once the first finishes', async () => {
      const { store } = fixture();
      const first = await createRun(store, {
        concurrencyKey: 'job:q',
        overlap: 'queue',
        runAt: at(-2 * SECOND),
      });
      const second = await createRun(store, {
        concurrencyKey: 'job:q',
        overlap: 'queue',
        runAt: at(-SECOND),
      });
      const other = await createRun(store, { concurrencyKey: 'job:other', overlap: 'queue' });
      const round1 = await claim(store, T0);
      expect(idsOf(round1.claimed)).toEqual(idsOf([first, other]));
      expect(round1.skipped).toEqual([]);
      expect((await store.getRun(second.id))?.status).toBe('pending');
      expect((await claim(store, at(SECOND))).claimed).toEqual([]);
      await finish(
        store,
        round1.claimed.find((run) => run.id === first.id) as Run,
        'succeeded',
        at(2 * SECOND),
      );
      const round3 = await claim(store, at(3 * SECOND));
      expect(idsOf(round3.claimed)).toEqual([second.id]);
    });

    it('skip: a run whose key is busy becomes skipped (code overlap, finishedAt = now) and is returned', async () => {
      const { store, inspect } = fixture();
      const running = await claimExactly(
        store,
        await createRun(store, { concurrencyKey: 'job:s', overlap: 'skip' }),
      );
      const slot = await createRun(store, { concurrencyKey: 'job:s', overlap: 'skip', runAt: at(MINUTE) });
      const now = at(MINUTE + SECOND);
      const { claimed, skipped } = await claim(store, now);
      expect(claimed).toEqual([]);
      expect(skipped).toHaveLength(1);
      expect(skipped[0]).toMatchObject({
        id: slot.id,
        status: 'skipped',
        finishedAt: now,
        error: { code: 'overlap' },
      });
      expect(await store.getRun(slot.id)).toEqual(skipped[0]);
      expect((await store.getRun(running.id))?.status).toBe('running');
      if (inspect) expect(storedValueIncludes(await inspect.run(slot.id), 'skipped')).toBe(true);
    });

    it('skip: of two due runs of one idle key the first is claimed and the second skipped in the same call', async () => {
      const { store } = fixture();
      const first = await createRun(store, { concurrencyKey: 'job:s2', overlap: 'skip', runAt: at(-MINUTE) });
      const second = await createRun(store, { concurrencyKey: 'job:s2', overlap: 'skip', runAt: T0 });
      const { claimed, skipped } = await claim(store, T0);
      expect(idsOf(claimed)).toEqual([first.id]);
      expect(idsOf(skipped)).toEqual([second.id]);
    });

    it('allow: runs of one key claim in parallel, and neither block nor are blocked by exclusive runs', async () => {
      const { store } = fixture();
      const a = await createRun(store, { concurrencyKey: 'job:a', overlap: 'allow', runAt: at(-2) });
      const b = await createRun(store, { concurrencyKey: 'job:a', overlap: 'allow', runAt: at(-1) });
      const exclusive = await createRun(store, { concurrencyKey: 'job:a', overlap: 'queue', runAt: T0 });
      const round1 = await claim(store, T0);
      expect(idsOf(round1.claimed)).toEqual(idsOf([a, b, exclusive]));
      const c = await createRun(store, { concurrencyKey: 'job:a', overlap: 'allow', runAt: at(SECOND) });
      const queued = await createRun(store, { concurrencyKey: 'job:a', overlap: 'queue', runAt: at(SECOND) });
      const round2 = await claim(store, at(SECOND));
      expect(idsOf(round2.claimed)).toEqual([c.id]);
      expect((await store.getRun(queued.id))?.status).toBe('pending');
    });

    it('keeps exclusive keys exclusive while 8 claimers on 2 instances race round after round', async () => {
      const stores = await fixture().instances(2);
      const keys = ['job:k1', 'job:k2', 'job:k3', 'job:k4', 'job:k5'];
      for (let index = 0; index < 30; index++) {
        const key = keys[index % keys.length] as string;
        await createRun(stores[0] as Store, {
          concurrencyKey: key,
          overlap: 'queue',
          runAt: at(-30 + index),
        });
      }
      const finished = new Set<string>();
      for (let round = 0; round < 20 && finished.size < 30; round++) {
        const now = at(round * SECOND);
        const results = await race(stores, 8, (store, index) =>
          store.claimRuns({ workerId: `worker-${index}`, now, limit: 3, leaseMs: LEASE_MS }),
        );
        for (const count of (await exclusiveRunningPerKey(fixture().store)).values()) expect(count).toBe(1);
        const running = results.flatMap((result) => result.claimed);
        expect(new Set(running.map((run) => run.concurrencyKey)).size).toBe(running.length);
        for (const run of running) {
          await finish(stores[1] as Store, run, 'succeeded', at(round * SECOND + 500));
          finished.add(run.id);
        }
      }
      expect(finished.size).toBe(30);
    });

    it('skip: of 10 due runs of one key raced by 10 claimers, one runs and nine are skipped', async () => {
      const stores = await fixture().instances(2);
      for (let index = 0; index < 10; index++) {
        await createRun(stores[0] as Store, {
          concurrencyKey: 'job:one',
          overlap: 'skip',
          runAt: at(-index),
        });
      }
      let claimed = 0;
      let skipped = 0;
      for (let round = 0; round < 5; round++) {
        const results = await race(stores, 10, (store, index) => claim(store, T0, 1, `worker-${index}`));
        claimed += results.reduce((sum, result) => sum + result.claimed.length, 0);
        skipped += results.reduce((sum, result) => sum + result.skipped.length, 0);
      }
      expect(claimed).toBe(1);
      expect(skipped).toBe(9);
      const runs = await allRuns(fixture().store);
      expect(runs.filter((run) => run.status === 'running')).toHaveLength(1);
      expect(runs.filter((run) => run.status === 'skipped')).toHaveLength(9);
    });
  });
}
