import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, type ManualClock, manualClock, type Store } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The store, counting each method's calls by name. */
function counted(store: Store): { store: Store; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

describe('slots freed by finished runs (real time, memory store)', () => {
  it('go to the next due runs in the call that finishes them, without a claim, due-job search or wake-up query per run, and without waiting for the poll', async () => {
    const { store, calls } = counted(memoryStore());
    let finished = 0;
    const scheduler = createScheduler({
      store,
      logger: false,
      maintenanceJobs: false,
      concurrency: 4,
      // A refill that waited for the next poll would not finish within the test.
      pollInterval: '1h',
      executors: { noop: { run: () => {} } },
    });
    scheduler.on('run:succeeded', () => {
      finished++;
    });
    for (let index = 0; index < 20; index++) await scheduler.trigger({ executor: 'noop', force: true });
    await sleep(10);
    calls.clear();
    await scheduler.start();
    try {
      await until(() => finished === 20);
    } finally {
      await scheduler.stop();
    }
    // One tick at start claims the first four; every later run is claimed by the finish before it.
    expect(calls.get('claimRuns')).toBe(1);
    expect(calls.get('findDueJobs')).toBe(1);
    expect(calls.get('nextWakeAt')).toBe(1);
    expect(calls.get('finishRuns') ?? 0).toBe(0);
    expect(calls.get('finishAndClaim')).toBeLessThanOrEqual(20 / 4 + 1);
    expect((await scheduler.runs.list({ status: ['pending', 'running'], limit: 10 })).items).toEqual([]);
  });

  it('never run more at once than the concurrency, however finishes and claims interleave', async () => {
    let executing = 0;
    let most = 0;
    let finished = 0;
    const scheduler = createScheduler({
      store: memoryStore(),
      logger: false,
      maintenanceJobs: false,
      concurrency: 3,
      pollInterval: '1h',
      executors: {
        work: {
          run: async (ctx) => {
            executing++;
            most = Math.max(most, executing);
            await sleep((ctx.params as { ms: number }).ms);
            executing--;
          },
        },
      },
    });
    scheduler.on('run:succeeded', () => {
      finished++;
    });
    for (let index = 0; index < 40; index++)
      await scheduler.trigger({ executor: 'work', force: true, params: { ms: index % 4 } });
    await scheduler.start();
    try {
      await until(() => finished === 40);
    } finally {
      await scheduler.stop();
    }
    expect(most).toBe(3);
  });

  it('stop() waits for the runs a finish in flight claimed for the slots it freed', async () => {
    const base = memoryStore();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finishing = false;
    const store = new Proxy(base, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        // Bound to the store: its methods use private fields a proxy cannot reach.
        if (key !== 'finishAndClaim') return typeof value === 'function' ? value.bind(target) : value;
        return async (input: Parameters<Store['finishAndClaim']>[0]) => {
          finishing = true;
          await held;
          return target.finishAndClaim(input);
        };
      },
    });
    const executed: string[] = [];
    const scheduler = createScheduler({
      store,
      logger: false,
      maintenanceJobs: false,
      concurrency: 1,
      pollInterval: '1h',
      executors: {
        noop: {
          run: async (ctx) => {
            executed.push(ctx.run.id);
            await sleep(20);
          },
        },
      },
    });
    const runs = [
      await scheduler.trigger({ executor: 'noop', force: true }),
      await scheduler.trigger({ executor: 'noop', force: true }),
    ];
    await scheduler.start();
    await until(() => finishing);
    const stopped = scheduler.stop({ grace: '5s' });
    release();
    await stopped;
    // The second run was claimed by the first one's finish: it ran, and ended before stop() did.
    expect(executed.sort()).toEqual(runs.map((run) => run.id).sort());
    for (const run of runs) expect((await scheduler.runs.get(run.id)).status).toBe('succeeded');
  });
});

/** A scheduler on `store` at `clock`'s time, with one executor that does nothing. */
function fakeTimeScheduler(store: Store, clock: ManualClock) {
  return createScheduler({
    store,
    clock,
    logger: false,
    maintenanceJobs: false,
    executors: { noop: { run: () => {} } },
  });
}

describe('the search for due jobs (fake time, memory store)', () => {
  // The engine reads due jobs a page of 100 at a time; these counts sit on either side of a page.
  it.each([
    [100, 1],
    [101, 2],
    [250, 3],
  ])(
    'fires %i due jobs in %i search(es) for them: none that could only come back empty',
    async (jobs, searches) => {
      const clock = manualClock('2027-01-04T09:59:30Z');
      const { store, calls } = counted(memoryStore());
      const scheduler = fakeTimeScheduler(store, clock);
      for (let index = 0; index < jobs; index++)
        await scheduler.jobs.create({ name: `job-${index}`, executor: 'noop', schedule: '0 10 * * *' });
      clock.set('2027-01-04T10:00:00Z');
      calls.clear();
      const { summary } = await scheduler.runDue({ limit: 1000 });
      expect(summary.executed).toBe(jobs);
      expect(calls.get('findDueJobs')).toBe(searches);
    },
  );
});

describe('a store whose due index disagrees with its records', () => {
  it('ends the search after a page that moves no job on, instead of reading the same page for ever', async () => {
    const clock = manualClock('2027-01-04T10:00:00Z');
    const { store: inner, calls } = counted(memoryStore());
    const scheduler = fakeTimeScheduler(inner, clock);
    const job = await scheduler.jobs.create({ name: 'paused', executor: 'noop', schedule: '0 11 * * *' });
    // More than a page of "due" entries whose records say the job is not due: a store whose index
    // was edited by hand, or a time index that lags its records.
    const stale = Array.from({ length: 101 }, () => ({ ...job, enabled: false }));
    // Past a few searches the store refuses, so that an engine that would search for ever fails
    // this test instead of hanging it.
    const store = new Proxy(inner, {
      get(target, key, receiver) {
        if (key !== 'findDueJobs') return Reflect.get(target, key, receiver);
        return async () => {
          const count = (calls.get(key) ?? 0) + 1;
          calls.set(key, count);
          if (count > 5) throw new Error(`searched for due jobs ${count} times in one tick`);
          return stale;
        };
      },
    });
    const other = fakeTimeScheduler(store, clock);
    calls.clear();
    await other.runDue();
    expect(calls.get('findDueJobs')).toBe(1);
  });
});
