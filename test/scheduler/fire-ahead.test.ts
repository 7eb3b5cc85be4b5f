import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, type Run, type Scheduler, type Store } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A memory store whose calls answer `ms` later (or `ms(method)`), as a database across a network
 * would: firing a burst then takes the loop long enough that it fires the next slots ahead of time.
 */
function slowStore(ms: number | ((method: string) => number)): Store {
  const store = memoryStore();
  const delayOf = typeof ms === 'number' ? () => ms : ms;
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.then(async (answer) => {
          await sleep(delayOf(String(key)));
          return answer;
        });
      };
    },
  });
}

/** The first run `scheduler` creates ahead of its slot, or null if none comes within 6 s. */
function firstRunFiredAhead(scheduler: Scheduler): Promise<Run | null> {
  const firedAhead = new Promise<Run>((resolve) =>
    scheduler.on('run:created', ({ run }) => {
      if (run.runAt.getTime() > Date.now()) resolve(run);
    }),
  );
  return Promise.race([firedAhead, sleep(6_000).then(() => null)]);
}

/** Schedules' runs on a store with 25 ms round trips, in real time (a few seconds per test). */
describe('slots fired ahead of time (real time, slow store)', () => {
  it('creates a slot’s runs before the slot, starts none before it, and fires each slot once across instances', async () => {
    const store = slowStore(25);
    const startedAt = new Map<string, number>();
    const make = (instanceId: string) =>
      createScheduler({
        store,
        instanceId,
        logger: false,
        maintenanceJobs: false,
        executors: {
          tick: {
            run: (ctx) => {
              expect(startedAt.has(ctx.run.id), `run ${ctx.run.id} started twice`).toBe(false);
              startedAt.set(ctx.run.id, Date.now());
            },
          },
        },
      });
    const a = make('a');
    const b = make('b');
    for (let index = 0; index < 10; index++)
      await a.jobs.create({ name: `tick-${index}`, schedule: '* * * * * *', executor: 'tick' });
    await Promise.all([a.start(), b.start()]);
    await sleep(4_300);
    await Promise.all([a.stop(), b.stop()]);
    const { items } = await a.runs.list({ limit: 100 });
    const runs = items.filter((run): run is Run & { scheduledFor: Date } => run.scheduledFor !== null);
    expect(runs.length).toBeGreaterThanOrEqual(30);
    const slots = new Set(runs.map((run) => `${run.jobName}@${run.scheduledFor.toISOString()}`));
    expect(slots.size, 'a slot fired twice').toBe(runs.length);
    for (const run of runs) {
      expect(run.status).toBe('succeeded');
      const slot = run.scheduledFor.getTime();
      // The executor, and the run's recorded start, never come before the slot...
      expect(startedAt.get(run.id), `run of ${run.jobName} started before its slot`).toBeGreaterThanOrEqual(
        slot,
      );
      expect(run.startedAt?.getTime()).toBeGreaterThanOrEqual(slot);
    }
    // ...but once the loop has timed its firings, the runs exist by the time their slot comes.
    const firstCreated = Math.min(...runs.map((run) => run.createdAt.getTime()));
    const laterSlots = runs.filter((run) => run.scheduledFor.getTime() >= firstCreated + 2_000);
    expect(laterSlots.length).toBeGreaterThanOrEqual(10);
    const createdAhead = laterSlots.filter((run) => run.createdAt.getTime() < run.scheduledFor.getTime());
    expect(createdAhead.length).toBeGreaterThan(laterSlots.length / 2);
    for (const run of createdAhead)
      expect(run.scheduledFor.getTime() - run.createdAt.getTime()).toBeLessThanOrEqual(250);
  });

  it('still skips, rather than starts late, the slots of an overlap-skip job running here with every slot busy', async () => {
    const store = slowStore(25);
    const starts: { slot: number; at: number }[] = [];
    const scheduler = createScheduler({
      store,
      logger: false,
      maintenanceJobs: false,
      concurrency: 1,
      executors: {
        long: {
          run: async (ctx) => {
            starts.push({ slot: ctx.run.scheduledFor?.getTime() ?? 0, at: Date.now() });
            await sleep(2_300);
          },
        },
      },
    });
    await scheduler.jobs.create({ name: 'long', schedule: '* * * * * *', executor: 'long', overlap: 'skip' });
    await scheduler.start();
    await sleep(5_600);
    await scheduler.stop({ grace: '3s' });
    const { items } = await scheduler.runs.list({ limit: 100 });
    // While a run holds the only slot, the slots that come are recorded skipped as they come...
    expect(items.filter((run) => run.status === 'skipped').length).toBeGreaterThanOrEqual(2);
    // ...and none waits for the slot to free up and then starts late.
    expect(starts.length).toBeGreaterThanOrEqual(2);
    for (const { slot, at } of starts) expect(at - slot).toBeLessThan(500);
  });

  it('starts a slot fired ahead at its slot even when a wake-up’s claim went out just before it', async () => {
    // Slow claims: a wake-up from another instance just before each slot sends a claim that
    // leaves before the slot, finds nothing, and is answered after it.
    const slow = new Set(['findDueJobs', 'fireSlots', 'fireAndClaim', 'claimRuns', 'finishAndClaim']);
    const store = slowStore((method) => (slow.has(method) ? 40 : 5));
    const lags: number[] = [];
    const worker = createScheduler({
      store,
      logger: false,
      maintenanceJobs: false,
      executors: {
        tick: { run: (ctx) => void lags.push(Date.now() - (ctx.run.scheduledFor?.getTime() ?? 0)) },
      },
    });
    const web = createScheduler({ store, logger: false, maintenanceJobs: false });
    await worker.jobs.create({ name: 'tick', schedule: '* * * * * *', executor: 'tick' });
    await worker.start();
    const until = Date.now() + 7_000;
    while (Date.now() < until) {
      await sleep(1_000 - (Date.now() % 1_000) - 15);
      await web.reload();
      await sleep(30);
    }
    await worker.stop();
    expect(lags.length).toBeGreaterThanOrEqual(6);
    // Each started within a claim or two of its slot, none a poll interval (1 s) late.
    expect(lags.filter((lag) => lag > 500)).toEqual([]);
  });

  it('stop() starts the runs it fired ahead when their slot comes, rather than leave them pending', async () => {
    const store = slowStore(25);
    const started: string[] = [];
    const scheduler = createScheduler({
      store,
      logger: false,
      maintenanceJobs: false,
      executors: { tick: { run: (ctx) => void started.push(ctx.run.id) } },
    });
    await scheduler.jobs.create({ name: 'tick', schedule: '* * * * * *', executor: 'tick' });
    // Stop as soon as a run is created ahead of its slot, in the moment before the slot.
    const firedAhead = firstRunFiredAhead(scheduler);
    await scheduler.start();
    const run = await firedAhead;
    await scheduler.stop();
    expect(run, 'no run was fired ahead of its slot').not.toBeNull();
    const after = await scheduler.runs.get((run as Run).id);
    expect(after.status).toBe('succeeded');
    expect(after.startedAt?.getTime()).toBeGreaterThanOrEqual(after.scheduledFor?.getTime() ?? 0);
    expect(started).toContain(after.id);
    const { items } = await scheduler.runs.list({ status: 'pending', limit: 10 });
    expect(items).toEqual([]);
  });

  it('sends no claim in the moment before a slot it fired ahead: its own new run does not wake it', async () => {
    const slow = new Set(['findDueJobs', 'fireSlots', 'fireAndClaim']);
    const base = slowStore((method) => (slow.has(method) ? 40 : 5));
    const claimsSentAt: number[] = [];
    const store = new Proxy(base, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (key !== 'claimRuns' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          claimsSentAt.push(Date.now());
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const scheduler = createScheduler({
      store,
      logger: false,
      maintenanceJobs: false,
      executors: { tick: { run: () => {} } },
    });
    await scheduler.jobs.create({ name: 'tick', schedule: '* * * * * *', executor: 'tick' });
    await scheduler.start();
    await sleep(5_200);
    await scheduler.stop();
    // Once the lead is known (after the first two slots), every claim goes out at or after a slot.
    const settled = claimsSentAt.filter((at) => at - (claimsSentAt[0] ?? 0) > 2_500);
    expect(settled.length).toBeGreaterThanOrEqual(2);
    const justBeforeASlot = settled.filter((at) => 1_000 - (at % 1_000) <= 200);
    expect(justBeforeASlot).toEqual([]);
  });

  it('stop() resolves and drains its runs when the store fails the claim it sends for its runs fired ahead', async () => {
    let failClaims = false;
    const base = slowStore(25);
    const store = new Proxy(base, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (key !== 'claimRuns' || typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          failClaims
            ? Promise.reject(new Error('connection terminated'))
            : (value as (...a: unknown[]) => unknown).apply(target, args);
      },
    });
    const scheduler = createScheduler({
      store,
      logger: false,
      maintenanceJobs: false,
      executors: {
        tick: { run: () => {} },
        long: {
          run: (ctx) =>
            new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
        },
      },
    });
    const errors: string[] = [];
    scheduler.on('scheduler:error', ({ operation }) => errors.push(operation));
    await scheduler.jobs.create({ name: 'tick', schedule: '* * * * * *', executor: 'tick' });
    await scheduler.start();
    const long = await scheduler.trigger({ executor: 'long' });
    expect(await firstRunFiredAhead(scheduler), 'no run was fired ahead of its slot').not.toBeNull();
    failClaims = true;
    await scheduler.stop({ grace: '200ms' });
    failClaims = false;
    expect((await scheduler.runs.get(long.id)).error?.code).toBe('shutdown');
    expect(errors).toContain('claim');
  });

  it('a second stop() resolves only once the first has started and finished the runs it fired ahead', async () => {
    const scheduler = createScheduler({
      store: slowStore(25),
      logger: false,
      maintenanceJobs: false,
      executors: { tick: { run: () => sleep(100) } },
    });
    await scheduler.jobs.create({ name: 'tick', schedule: '* * * * * *', executor: 'tick' });
    const firedAhead = firstRunFiredAhead(scheduler);
    await scheduler.start();
    const run = await firedAhead;
    expect(run, 'no run was fired ahead of its slot').not.toBeNull();
    const first = scheduler.stop();
    await scheduler.stop();
    expect((await scheduler.runs.get((run as Run).id)).status).toBe('succeeded');
    await first;
  });
});
