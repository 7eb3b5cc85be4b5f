import { describe, expect, it } from 'vitest';
import { skippedRun } from '../run-factory.js';
import type { FireSlotInput, FireSlotResult, NewRun, Store } from '../store.js';
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

/** One job's firing through `fireSlots`. */
async function fireOne(store: Store, input: FireSlotInput): Promise<FireSlotResult> {
  const results = await store.fireSlots([input]);
  expect(results).toHaveLength(1);
  return results[0] as FireSlotResult;
}

/** Fire `run` for the T0 slot of `job` (due at T0), moving the job on to T0 + 1 minute. */
function fireAtT0(store: Store, job: Job, run: NewRun): Promise<FireSlotResult> {
  return fireOne(store, {
    jobId: job.id,
    expectedNextRunAt: T0,
    nextRunAt: at(MINUTE),
    runs: [run],
    now: T0,
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

  describe('fireSlots', () => {
    it('creates the slot run and advances nextRunAt by compare-and-set', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ nextRunAt: T0 }));
      const run = slotRun(job, T0);
      const result = await fireAtT0(store, job, run);
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

    it('records a slot fired as skipped (its job running) as skipped: listed, counted, never claimed', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ nextRunAt: T0 }));
      const run = skippedRun(slotRun(job, T0), T0);
      const result = await fireAtT0(store, job, run);
      const created = result.created[0];
      expect(created).toEqual({ ...run, id: created?.id });
      expect(await store.getRun(created?.id as string)).toEqual(created);
      expect((await allRuns(store, { statuses: ['skipped'] })).map((stored) => stored.id)).toEqual([
        created?.id,
      ]);
      expect(await allRuns(store, { statuses: ['pending'] })).toEqual([]);
      expect(await store.claimRuns({ workerId: 'w', now: at(HOUR), limit: 10, leaseMs: MINUTE })).toEqual({
        claimed: [],
        skipped: [],
      });
      expect(await store.nextWakeAt({ now: T0 })).toEqual(at(MINUTE));
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
      expect((await fireOne(store, input)).advanced).toBe(true);
      expect(await fireOne(store, input)).toEqual({ advanced: false, created: [] });
      expect(await allRuns(store, { jobId: job.id })).toHaveLength(1);
      const late = await fireOne(store, { ...input, runs: [], nextRunAt: at(HOUR) });
      expect(late.advanced).toBe(false);
      expect((await store.getJob(job.id))?.nextRunAt).toEqual(at(MINUTE));
    });

    it('does not advance a job that no longer exists', async () => {
      const { store } = fixture();
      const job = await store.insertJob(newJob({ nextRunAt: T0 }));
      await store.deleteJob({ id: job.id, now: T0 });
      const result = await fireOne(store, {
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
      const all = await fireOne(store, {
        jobId: job.id,
        expectedNextRunAt: at(-3 * MINUTE),
        nextRunAt: T0,
        runs: slots.map((slot) => slotRun(job, slot)),
        now: T0,
      });
      expect(all.advanced).toBe(true);
      expect(all.created.map((run) => run.scheduledFor)).toEqual(slots);
      expect(new Set(all.created.map((run) => run.id)).size).toBe(3);
      const skip = await fireOne(store, {
        jobId: job.id,
        expectedNextRunAt: T0,
        nextRunAt: at(HOUR),
        runs: [],
        now: T0,
      });
      expect(skip).toEqual({ advanced: true, created: [] });
      const last = await fireOne(store, {
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
        fireOne(store, {
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
        fireOne(store, {
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
      const result = await fireOne(store, {
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

    it('fires several jobs in one call and answers each in input order', async () => {
      const { store } = fixture();
      const due = await store.insertJob(newJob({ nextRunAt: T0 }));
      const moved = await store.insertJob(newJob({ nextRunAt: at(MINUTE) }));
      const deleted = await store.insertJob(newJob({ nextRunAt: T0 }));
      await store.deleteJob({ id: deleted.id, now: T0 });
      const other = await store.insertJob(newJob({ nextRunAt: at(-MINUTE) }));
      const input = (job: Job, expected: Date) => ({
        jobId: job.id,
        expectedNextRunAt: expected,
        nextRunAt: at(HOUR),
        runs: [slotRun(job, expected)],
        now: T0,
      });
      const results = await store.fireSlots([
        input(due, T0),
        input(moved, T0),
        input(deleted, T0),
        input(other, at(-MINUTE)),
      ]);
      expect(results.map((result) => result.advanced)).toEqual([true, false, false, true]);
      expect(results.map((result) => result.created.map((run) => run.jobId))).toEqual([
        [due.id],
        [],
        [],
        [other.id],
      ]);
      expect((await store.getJob(moved.id))?.nextRunAt).toEqual(at(MINUTE));
      expect(await allRuns(store, { jobId: moved.id })).toEqual([]);
      expect(await store.findDueJobs({ now: at(MINUTE), limit: 10 })).toEqual([await store.getJob(moved.id)]);
      expect(await store.fireSlots([])).toEqual([]);
    });

    it('fires each of 30 jobs once when callers on 2 instances fire overlapping batches in different orders', async () => {
      const stores = await fixture().instances(2);
      const jobs = await Promise.all(
        Array.from({ length: 30 }, () => fixture().store.insertJob(newJob({ nextRunAt: T0 }))),
      );
      const inputs = jobs.map((job) => ({
        jobId: job.id,
        expectedNextRunAt: T0,
        nextRunAt: at(MINUTE),
        runs: [slotRun(job, T0)],
        now: T0,
      }));
      const results = await race(stores, 8, (store, caller) => {
        // Each caller starts at another job and fires them in chunks, as instances of core do.
        const offset = (caller * 7) % inputs.length;
        const ordered = inputs.map((_, index) => inputs[(index + offset) % inputs.length] as FireSlotInput);
        return Promise.all([store.fireSlots(ordered.slice(0, 15)), store.fireSlots(ordered.slice(15))]);
      });
      const perJob = new Map<string, number>();
      for (const result of results.flat(2))
        for (const run of result.created)
          perJob.set(run.jobId as string, (perJob.get(run.jobId as string) ?? 0) + 1);
      expect(perJob.size).toBe(30);
      expect([...perJob.values()].every((count) => count === 1)).toBe(true);
      expect(results.flat(2).filter((result) => result.advanced)).toHaveLength(30);
      expect(await allRuns(fixture().store, {})).toHaveLength(30);
      expect(await fixture().store.findDueJobs({ now: T0, limit: 100 })).toEqual([]);
    });
  });
}
