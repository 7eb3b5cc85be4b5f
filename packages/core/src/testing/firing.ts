import { describe, expect, it } from 'vitest';
import type { NewRun } from '../store.js';
import type { Job } from '../types.js';
import type { ContractFixture } from './harness.js';
import { at, HOUR, MINUTE, newJob, newRunOf, SECOND, T0 } from './records.js';
import { allRuns, createRun, race, startRun } from './steps.js';

/** A schedule run for `job`'s slot at `slot`, keyed the way core keys slots. */
function slotRun(job: Job, slot: Date): NewRun {
  return newRunOf(job, {
    scheduledFor: slot,
    runAt: slot,
    dedupeKey: `slot:${job.id}:${slot.toISOString()}`,
  });
}

/** Finding due jobs, the next wake-up, and firing slots exactly once. */
export function firingContract(fixture: () => ContractFixture): void {
  describe('findDueJobs', () => {
    it('returns enabled jobs with nextRunAt <= now, earliest first, at most limit', async () => {
      const { store } = fixture();
      const insert = (offset: number | null, enabled = true, tenantId: string | null = null) =>
        store.insertJob(newJob({ nextRunAt: offset === null ? null : at(offset), enabled, tenantId }));
      const b = await insert(-MINUTE, true, 'acme');
      const c = await insert(0);
      const a = await insert(-2 * MINUTE);
      await insert(1);
      await insert(-HOUR, false);
      await insert(null);
      expect((await store.findDueJobs({ now: T0, limit: 10 })).map((job) => job.id)).toEqual([
        a.id,
        b.id,
        c.id,
      ]);
      expect((await store.findDueJobs({ now: T0, limit: 2 })).map((job) => job.id)).toEqual([a.id, b.id]);
      expect(await store.findDueJobs({ now: at(-3 * MINUTE), limit: 10 })).toEqual([]);
      const [first] = await store.findDueJobs({ now: T0, limit: 1 });
      expect(first).toEqual(await store.getJob(a.id));
    });
  });

  describe('nextWakeAt', () => {
    it('is null when nothing is scheduled', async () => {
      expect(await fixture().store.nextWakeAt({ now: T0 })).toBeNull();
    });

    it('is the earliest enabled nextRunAt or pending runAt strictly after now', async () => {
      const { store } = fixture();
      await store.insertJob(newJob({ nextRunAt: at(-MINUTE) }));
      await store.insertJob(newJob({ nextRunAt: T0 }));
      await store.insertJob(newJob({ nextRunAt: at(MINUTE), enabled: false }));
      await store.insertJob(newJob({ nextRunAt: null }));
      expect(await store.nextWakeAt({ now: T0 })).toBeNull();
      await store.insertJob(newJob({ nextRunAt: at(5 * MINUTE) }));
      expect(await store.nextWakeAt({ now: T0 })).toEqual(at(5 * MINUTE));
      await createRun(store, { runAt: at(-SECOND) });
      await createRun(store, { runAt: at(3 * MINUTE) });
      expect(await store.nextWakeAt({ now: T0 })).toEqual(at(3 * MINUTE));
      expect(await store.nextWakeAt({ now: at(3 * MINUTE) })).toEqual(at(5 * MINUTE));
      expect(await store.nextWakeAt({ now: at(5 * MINUTE) })).toBeNull();
    });

    it('ignores runs that are not pending', async () => {
      const { store } = fixture();
      const cancelled = await createRun(store, { runAt: at(MINUTE) });
      await store.cancelRun({ runId: cancelled.id, now: T0, by: null });
      await startRun(store, { runAt: T0 });
      expect(await store.nextWakeAt({ now: at(-HOUR) })).toBeNull();
    });
  });

  describe('fireSlot', () => {
    it('creates the slot run and advances nextRunAt by compare-and-set', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ nextRunAt: T0 }));
      const run = slotRun(job, T0);
      const result = await store.fireSlot({
        jobId: job.id,
        expectedNextRunAt: T0,
        nextRunAt: at(MINUTE),
        runs: [run],
        now: T0,
      });
      expect(result.advanced).toBe(true);
      expect(result.created).toHaveLength(1);
      const created = result.created[0];
      expect(created).toEqual({ ...run, id: created?.id });
      expect(await store.getRun(created?.id as string)).toEqual(created);
      const advanced = await store.getJob(job.id);
      expect(advanced?.nextRunAt).toEqual(at(MINUTE));
      expect(advanced?.version).toBe(job.version);
      expect(await store.findDueJobs({ now: T0, limit: 10 })).toEqual([]);
    });

    it('gives a caller whose expected nextRunAt is stale { advanced: false, created: [] }', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ nextRunAt: T0 }));
      const input = {
        jobId: job.id,
        expectedNextRunAt: T0,
        nextRunAt: at(MINUTE),
        runs: [slotRun(job, T0)],
        now: T0,
      };
      expect((await store.fireSlot(input)).advanced).toBe(true);
      expect(await store.fireSlot(input)).toEqual({ advanced: false, created: [] });
      expect(await allRuns(store, { jobId: job.id })).toHaveLength(1);
      const late = await store.fireSlot({ ...input, runs: [], nextRunAt: at(HOUR) });
      expect(late.advanced).toBe(false);
      expect((await store.getJob(job.id))?.nextRunAt).toEqual(at(MINUTE));
    });

    it('does not advance a job that no longer exists', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ nextRunAt: T0 }));
      await store.deleteJob({ id: job.id, now: T0 });
      const result = await store.fireSlot({
        jobId: job.id,
        expectedNextRunAt: T0,
        nextRunAt: at(MINUTE),
        runs: [],
        now: T0,
      });
      expect(result).toEqual({ advanced: false, created: [] });
      expect(await store.getJob(job.id)).toBeNull();
    });

    it('fires several runs at once (misfire all), none (misfire skip), and can stop the job (nextRunAt null)', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ nextRunAt: at(-3 * MINUTE) }));
      const slots = [at(-3 * MINUTE), at(-2 * MINUTE), at(-MINUTE)];
      const all = await store.fireSlot({
        jobId: job.id,
        expectedNextRunAt: at(-3 * MINUTE),
        nextRunAt: T0,
        runs: slots.map((slot) => slotRun(job, slot)),
        now: T0,
      });
      expect(all.advanced).toBe(true);
      expect(all.created.map((run) => run.scheduledFor)).toEqual(slots);
      expect(new Set(all.created.map((run) => run.id)).size).toBe(3);
      const skip = await store.fireSlot({
        jobId: job.id,
        expectedNextRunAt: T0,
        nextRunAt: at(HOUR),
        runs: [],
        now: T0,
      });
      expect(skip).toEqual({ advanced: true, created: [] });
      const last = await store.fireSlot({
        jobId: job.id,
        expectedNextRunAt: at(HOUR),
        nextRunAt: null,
        runs: [],
        now: at(HOUR),
      });
      expect(last.advanced).toBe(true);
      expect((await store.getJob(job.id))?.nextRunAt).toBeNull();
      expect(await store.findDueJobs({ now: at(100 * HOUR), limit: 10 })).toEqual([]);
      expect(await store.nextWakeAt({ now: at(HOUR) })).toBeNull();
      expect(await allRuns(store, { jobId: job.id })).toHaveLength(3);
    });

    it('fires one slot once when 20 callers on 2 instances race for it', async () => {
      const stores = await fixture().instances(2);
      const job = await fixture().store.insertJob(newJob({ nextRunAt: T0 }));
      const results = await race(stores, 20, (store) =>
        store.fireSlot({
          jobId: job.id,
          expectedNextRunAt: T0,
          nextRunAt: at(MINUTE),
          runs: [slotRun(job, T0)],
          now: T0,
        }),
      );
      expect(results.filter((result) => result.advanced)).toHaveLength(1);
      expect(results.flatMap((result) => result.created)).toHaveLength(1);
      const runs = await allRuns(fixture().store, { jobId: job.id });
      expect(runs).toHaveLength(1);
      expect(runs[0]?.dedupeKey).toBe(`slot:${job.id}:${T0.toISOString()}`);
      expect((await fixture().store.getJob(job.id))?.nextRunAt).toEqual(at(MINUTE));
    });

    it('creates each of several slots once when callers race with misfire all', async () => {
      const stores = await fixture().instances(2);
      const job = await fixture().store.insertJob(newJob({ nextRunAt: at(-2 * MINUTE) }));
      const slots = [at(-2 * MINUTE), at(-MINUTE), T0];
      const results = await race(stores, 10, (store) =>
        store.fireSlot({
          jobId: job.id,
          expectedNextRunAt: at(-2 * MINUTE),
          nextRunAt: at(MINUTE),
          runs: slots.map((slot) => slotRun(job, slot)),
          now: T0,
        }),
      );
      expect(results.filter((result) => result.advanced)).toHaveLength(1);
      const runs = await allRuns(fixture().store, { jobId: job.id });
      expect(runs.map((run) => run.scheduledFor?.getTime()).sort()).toEqual(
        slots.map((slot) => slot.getTime()),
      );
    });

    it('repairs a crash between creating the runs and advancing: no duplicate, and it advances', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ nextRunAt: T0 }));
      const crashed = await store.createRun({ run: slotRun(job, T0), now: T0, rejectIfActive: false });
      expect(crashed.created).toBe(true);
      const result = await store.fireSlot({
        jobId: job.id,
        expectedNextRunAt: T0,
        nextRunAt: at(MINUTE),
        runs: [slotRun(job, T0)],
        now: at(SECOND),
      });
      expect(result).toEqual({ advanced: true, created: [] });
      const runs = await allRuns(store, { jobId: job.id });
      expect(runs.map((run) => run.id)).toEqual([crashed.run.id]);
      expect((await store.getJob(job.id))?.nextRunAt).toEqual(at(MINUTE));
    });
  });
}
