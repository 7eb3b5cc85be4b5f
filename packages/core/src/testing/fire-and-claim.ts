import { describe, expect, it } from 'vitest';
import type { FireSlotInput, NewRun, Store } from '../store.js';
import type { Job, Run } from '../types.js';
import type { ContractFixture } from './harness.js';
import { RACE_INSTANCES, RACE_ROUNDS, raceAll, roundStart } from './races.js';
import { at, MINUTE, newJob, newRunOf, SECOND, T0 } from './records.js';
import { allRuns, claimBy, createRun, expectClaimedBy, idsOf } from './steps.js';

/** The firing of `job`'s slot at `slot` into one run, keyed the way core keys slots. */
function firing(job: Job, slot: Date, now: Date, run: Partial<NewRun> = {}): FireSlotInput {
  return {
    jobId: job.id,
    expectedNextRunAt: slot,
    nextRunAt: new Date(slot.getTime() + MINUTE),
    runs: [
      newRunOf(job, {
        scheduledFor: slot,
        runAt: slot,
        dedupeKey: `slot:${job.id}:${slot.toISOString()}`,
        ...run,
      }),
    ],
    now,
  };
}

/** fireAndClaim: fireSlots then claimRuns in one call, each with its own semantics. */
export function fireAndClaimContract(fixture: () => ContractFixture): void {
  describe('fireAndClaim', () => {
    it('fires like fireSlots, then claims in claim order what is due, the runs it just created included', async () => {
      const { store } = fixture();
      const a = await store.insertJob(newJob({ overlap: 'allow', nextRunAt: T0 }));
      const b = await store.insertJob(newJob({ overlap: 'allow', nextRunAt: T0 }));
      // Due before the fired runs, and more urgent than both: claimed first.
      const urgent = await createRun(store, { runAt: at(SECOND), priority: -1 });
      // Due before them at the same priority: claimed before them.
      const earlier = await createRun(store, { runAt: at(-MINUTE) });
      const now = at(2 * SECOND);
      const result = await store.fireAndClaim({
        firings: [firing(a, T0, now), firing(b, T0, now, { priority: 5 })],
        claim: claimBy('worker-a', now, 3),
      });
      expect(result.fired.map((fired) => fired.advanced)).toEqual([true, true]);
      const [firedA, firedB] = result.fired.map((fired) => fired.created);
      expect(firedA).toMatchObject([{ jobId: a.id, status: 'pending', scheduledFor: T0 }]);
      expect(firedB).toMatchObject([{ jobId: b.id, status: 'pending', priority: 5 }]);
      const runA = (firedA as Run[])[0] as Run;
      const runB = (firedB as Run[])[0] as Run;
      // In claim order: by priority, then runAt. The limit leaves the least urgent one pending.
      expect(result.claimed.map((run) => run.id)).toEqual([urgent.id, earlier.id, runA.id]);
      expectClaimedBy(result.claimed, 'worker-a', now);
      expect(result.skipped).toEqual([]);
      expect((await store.getJob(a.id))?.nextRunAt).toEqual(at(MINUTE));
      expect((await store.getRun(runA.id))?.status).toBe('running');
      expect((await store.getRun(runB.id))?.status).toBe('pending');
    });

    it('creates nothing for a slot already fired, and still claims', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ overlap: 'allow', nextRunAt: T0 }));
      const now = at(SECOND);
      const [first] = await store.fireSlots([firing(job, T0, now)]);
      expect(first?.created).toHaveLength(1);
      const again = await store.fireAndClaim({
        firings: [firing(job, T0, now)],
        claim: claimBy('worker-b', now, 5),
      });
      expect(again.fired).toEqual([{ advanced: false, created: [] }]);
      expect(idsOf(again.claimed)).toEqual(idsOf(first?.created ?? []));
      expect(await allRuns(store, { jobId: job.id })).toHaveLength(1);
    });

    it('claims nothing with a limit of 0, and skips a fired run whose key is busy', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ overlap: 'skip', nextRunAt: T0 }));
      const now = at(SECOND);
      const held = await store.fireAndClaim({
        firings: [firing(job, T0, now)],
        claim: claimBy('worker-a', now, 0),
      });
      expect(held.fired[0]?.created).toHaveLength(1);
      expect(held.claimed).toEqual([]);
      const first = held.fired[0]?.created[0] as Run;
      await store.claimRuns(claimBy('worker-a', now, 1));
      // The next slot fires while the first run still runs: overlap skip.
      const next = await store.fireAndClaim({
        firings: [firing(job, at(MINUTE), at(MINUTE))],
        claim: claimBy('worker-a', at(MINUTE), 5),
      });
      const skipped = next.fired[0]?.created[0] as Run;
      expect(next.claimed).toEqual([]);
      expect(next.skipped).toMatchObject([{ id: skipped.id, status: 'skipped', error: { code: 'overlap' } }]);
      expect((await store.getRun(first.id))?.status).toBe('running');
    });

    it(`racing on ${RACE_INSTANCES} instances (${RACE_ROUNDS} rounds), creates each slot's run once and claims it once`, async () => {
      const stores = await fixture().instances(RACE_INSTANCES);
      const first = stores[0] as Store;
      const jobs: Job[] = [];
      for (let index = 0; index < 4; index++)
        jobs.push(await first.insertJob(newJob({ overlap: 'allow', nextRunAt: roundStart(0) })));
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const slot = roundStart(round);
        const now = new Date(slot.getTime() + SECOND);
        const answers = await raceAll(
          round,
          stores.map((store, index) => () => {
            // Each instance fires the jobs from a different one, as core's instances do.
            const order = jobs.map((_, offset) => jobs[(index + offset) % jobs.length] as Job);
            return store.fireAndClaim({
              firings: order.map((job) => ({ ...firing(job, slot, now), nextRunAt: roundStart(round + 1) })),
              claim: claimBy(`worker-${index}`, now, 2),
            });
          }),
        );
        const created = answers.flatMap((answer) =>
          answer.fired.flatMap((fired) => fired.created.map((run) => run.id)),
        );
        expect(created.length, `round ${round}: runs created`).toBe(jobs.length);
        expect(new Set(created).size).toBe(jobs.length);
        const advanced = answers.flatMap((answer) => answer.fired.filter((fired) => fired.advanced));
        expect(advanced, `round ${round}: slots advanced`).toHaveLength(jobs.length);
        const claimed = answers.flatMap((answer) => answer.claimed.map((run) => run.id));
        expect(new Set(claimed).size, `round ${round}: a run was claimed twice`).toBe(claimed.length);
        for (const [index, answer] of answers.entries())
          for (const run of answer.claimed) expect(run.workerId).toBe(`worker-${index}`);
        // A run no caller claimed stays claimable; the sweeper takes the leftovers of the round.
        const stored = await Promise.all(created.map((id) => first.getRun(id)));
        expect(stored.map((run) => run?.status)).toEqual(
          created.map((id) => (claimed.includes(id) ? 'running' : 'pending')),
        );
        await first.claimRuns(claimBy('sweeper', now, jobs.length));
      }
    });
  });
}
