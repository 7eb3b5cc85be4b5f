import { describe, expect, it } from 'vitest';
import { manualClock } from '../clock.js';
import { createScheduler } from '../scheduler.js';
import type { Store } from '../store.js';
import type { Run } from '../types.js';
import type { ContractFixture } from './harness.js';
import { at, HOUR, MINUTE, newRunOf, T0 } from './records.js';
import { allRuns } from './steps.js';

/** A scheduler on `store` (not started) at `T0 + 1 h`, as each instance of an app would make one. */
function schedulerOn(store: Store) {
  return createScheduler({
    store,
    clock: manualClock(at(HOUR)),
    executors: { 'test.echo': { run: async () => null } },
    logger: false,
    maintenanceJobs: false,
    telemetry: false,
  });
}

/** Backfill through the store's slot uniqueness: one run per slot, whoever asks and however often. */
export function backfillContract(fixture: () => ContractFixture): void {
  describe('backfill on the store', () => {
    it('concurrent backfills on several instances create each slot once', async () => {
      const stores = await fixture().instances(3);
      const schedulers = stores.map(schedulerOn);
      const first = schedulers[0] as ReturnType<typeof schedulerOn>;
      await first.jobs.create({ name: 'hourly-report', schedule: '*/5 * * * *', executor: 'test.echo' });
      const range = { job: 'hourly-report', from: T0, to: at(HOUR) };
      const results = await Promise.all(
        [0, 1, 2, 0, 1, 2].map((index) => (schedulers[index] as typeof first).backfill(range)),
      );
      const created = results.flatMap((result) => result.created);
      expect(created).toHaveLength(12);
      expect(results.reduce((sum, result) => sum + result.skipped, 0)).toBe(5 * 12);
      const slots = created.map((run) => run.scheduledFor?.toISOString()).sort();
      expect(new Set(slots).size).toBe(12);
      expect(slots[0]).toBe(T0.toISOString());
      expect(slots[11]).toBe(at(55 * MINUTE).toISOString());
      const stored = await allRuns(fixture().store);
      expect(stored).toHaveLength(12);
      expect(stored.every((run) => run.trigger === 'backfill' && run.status === 'pending')).toBe(true);
    });

    it('skips a slot the loop already fired, and keeps the runs in slot order', async () => {
      const { store } = fixture();
      const scheduler = schedulerOn(store);
      const job = await scheduler.jobs.create({
        name: 'quarterly',
        schedule: '*/15 * * * *',
        executor: 'test.echo',
      });
      const fired = at(15 * MINUTE);
      await store.fireSlots([
        {
          jobId: job.id,
          expectedNextRunAt: job.nextRunAt as Date,
          nextRunAt: job.nextRunAt,
          runs: [
            newRunOf(job, {
              scheduledFor: fired,
              runAt: fired,
              dedupeKey: `slot:${job.id}:${fired.toISOString()}`,
            }),
          ],
          now: at(HOUR),
        },
      ]);
      const result = await scheduler.backfill({ job: 'quarterly', from: T0, to: at(HOUR) });
      expect(result.skipped).toBe(1);
      expect(result.created.map((run: Run) => run.scheduledFor?.toISOString())).toEqual([
        T0.toISOString(),
        at(30 * MINUTE).toISOString(),
        at(45 * MINUTE).toISOString(),
      ]);
      const { claimed } = await store.claimRuns({
        workerId: 'w',
        now: at(2 * HOUR),
        limit: 10,
        leaseMs: MINUTE,
      });
      // Backfilled runs are due since their slot, so the oldest slot starts first. The job's overlap
      // is `skip`: its fired run is skipped behind it, while backfilled runs queue.
      expect(claimed.map((run) => run.scheduledFor?.toISOString())).toEqual([T0.toISOString()]);
      const runs = await allRuns(store);
      const statusOf = (slot: Date) =>
        runs.find((run) => run.scheduledFor?.getTime() === slot.getTime())?.status;
      expect([T0, fired, at(30 * MINUTE), at(45 * MINUTE)].map(statusOf)).toEqual([
        'running',
        'skipped',
        'pending',
        'pending',
      ]);
      const again = await scheduler.backfill({ job: 'quarterly', from: T0, to: at(HOUR) });
      expect(again).toEqual({ created: [], skipped: 4 });
      const listed = await store.listRuns({ triggers: ['backfill'], limit: 10 });
      expect(listed.items).toHaveLength(3);
    });
  });
}
