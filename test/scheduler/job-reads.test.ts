import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, type ExecutorContext, manualClock, type Store } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';

/**
 * The store with its job reads counted; `withoutGetJobs` hides the optional batch read, and
 * `getJobsThrows` makes it throw at once (as a careless custom store might) instead of rejecting.
 */
function countingReads(store: Store, options: { withoutGetJobs?: boolean; getJobsThrows?: boolean } = {}) {
  const reads = { getJob: 0, getJobs: [] as string[][] };
  const counted = new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'getJobs' && options.withoutGetJobs) return undefined;
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (key === 'getJob') reads.getJob++;
        if (key === 'getJobs') {
          reads.getJobs.push([...(args[0] as string[])].sort());
          if (options.getJobsThrows) throw new Error('getJobs is out of order');
        }
        // Bound to the store: its methods use private fields a proxy cannot reach.
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: counted, reads };
}

/**
 * Three jobs triggered by hand (runs this instance did not fire, so it has not read their jobs),
 * then claimed and executed in one heartbeat; what each executor saw as its job.
 */
async function runTriggered(store: Store, names = ['alpha', 'beta', 'gamma']) {
  const seen = new Map<string, ExecutorContext<unknown>['job']>();
  const errors: string[] = [];
  const scheduler = createScheduler({
    store,
    clock: manualClock('2026-03-01T00:00:00Z'),
    logger: false,
    maintenanceJobs: false,
    executors: {
      note: {
        run: (ctx) => {
          seen.set(ctx.run.id, ctx.job);
        },
      },
    },
  });
  scheduler.on('scheduler:error', ({ operation, error }) => {
    errors.push(`${operation}: ${error.message}`);
  });
  const jobs = [];
  for (const name of new Set(names))
    jobs.push(
      await scheduler.jobs.create({ name, executor: 'note', schedule: '@daily', metadata: { name } }),
    );
  const runs = [];
  for (const name of names) runs.push(await scheduler.trigger({ job: name, force: true }));
  const result = await scheduler.runDue();
  return { jobs, runs, seen, errors, executed: result.executed };
}

describe("the jobs of a claimed batch's runs", () => {
  it('are read in one call, and each executor sees its own job', async () => {
    const { store, reads } = countingReads(memoryStore());
    const { jobs, runs, seen, executed } = await runTriggered(store);
    expect(executed).toHaveLength(3);
    expect(reads.getJobs).toEqual([jobs.map((job) => job.id).sort()]);
    expect(reads.getJob).toBe(0);
    runs.forEach((run, index) => {
      const job = jobs[index];
      expect(seen.get(run.id)).toMatchObject({ id: job?.id, name: job?.name, metadata: { name: job?.name } });
    });
  });

  it('are read one at a time from a store without getJobs, with the same outcome', async () => {
    const { store, reads } = countingReads(memoryStore(), { withoutGetJobs: true });
    const { jobs, runs, seen, executed } = await runTriggered(store);
    expect(executed).toHaveLength(3);
    expect(reads.getJob).toBe(3);
    runs.forEach((run, index) => {
      expect(seen.get(run.id)).toMatchObject({ id: jobs[index]?.id, name: jobs[index]?.name });
    });
  });

  it('are read in one call when several runs share one job', async () => {
    const { store, reads } = countingReads(memoryStore());
    const { jobs, runs, seen, executed } = await runTriggered(store, ['alpha', 'alpha', 'alpha']);
    expect(executed).toHaveLength(3);
    expect(reads.getJobs).toEqual([[jobs[0]?.id]]);
    expect(reads.getJob).toBe(0);
    for (const run of runs) expect(seen.get(run.id)).toMatchObject({ id: jobs[0]?.id, name: 'alpha' });
  });

  it("give each run of one job its own copy: an executor changing its job's metadata changes no other run's", async () => {
    const seen: unknown[] = [];
    const scheduler = createScheduler({
      store: memoryStore(),
      clock: manualClock('2026-03-01T00:00:00Z'),
      logger: false,
      maintenanceJobs: false,
      executors: {
        meddle: {
          run: (ctx) => {
            const metadata = ctx.job?.metadata as { tags: string[] };
            seen.push([...metadata.tags]);
            metadata.tags.push('changed by a run');
          },
        },
      },
    });
    await scheduler.jobs.create({
      name: 'shared',
      executor: 'meddle',
      schedule: '@daily',
      metadata: { tags: ['a'] },
    });
    for (let index = 0; index < 3; index++) await scheduler.trigger({ job: 'shared', force: true });
    expect((await scheduler.runDue()).executed).toHaveLength(3);
    expect(seen).toEqual([['a'], ['a'], ['a']]);
  });

  it('are read one at a time when the batch read fails, even by throwing, and the failure is reported', async () => {
    const { store, reads } = countingReads(memoryStore(), { getJobsThrows: true });
    const { jobs, runs, seen, errors, executed } = await runTriggered(store);
    expect(executed).toHaveLength(3);
    expect(reads.getJobs).toHaveLength(1);
    expect(reads.getJob).toBe(3);
    expect(errors).toEqual(['getJobs: getJobs is out of order']);
    runs.forEach((run, index) => {
      expect(seen.get(run.id)).toMatchObject({ id: jobs[index]?.id, name: jobs[index]?.name });
    });
  });
});
