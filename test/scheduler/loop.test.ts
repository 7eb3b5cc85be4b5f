import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the background loop (real time)', () => {
  it('two instances on one store fire every second-slot exactly once, and the second carries on alone', async () => {
    const store = memoryStore();
    const startedOn = new Map<string, string>();
    const make = (instanceId: string) =>
      createScheduler({
        store,
        instanceId,
        logger: false,
        maintenanceJobs: false,
        executors: { tick: { run: () => {} } },
      });
    const a = make('a');
    const b = make('b');
    // Each instance also hears the other's events (origin tells whose): record local starts only.
    for (const scheduler of [a, b])
      scheduler.on('run:started', ({ run, origin }) => {
        if (origin !== scheduler.instanceId) return;
        expect(startedOn.has(run.id), `run ${run.id} started twice`).toBe(false);
        startedOn.set(run.id, origin);
      });
    await a.jobs.create({
      name: 'every-second',
      schedule: '* * * * * *',
      executor: 'tick',
      overlap: 'allow',
    });
    await Promise.all([a.start(), b.start()]);
    await sleep(2_200);
    await a.stop();
    const aStopped = Date.now();
    await sleep(2_300);
    await b.stop();
    const { items } = await b.runs.list({ limit: 100 });
    const slots = items.map((run) => run.scheduledFor?.getTime() ?? 0).sort((x, y) => x - y);
    // One run per slot, and no slot missing between the first and the last.
    expect(new Set(slots).size).toBe(slots.length);
    expect(slots.length).toBeGreaterThanOrEqual(4);
    expect(slots.map((slot) => slot - (slots[0] as number))).toEqual(slots.map((_, index) => index * 1_000));
    for (const run of items) {
      expect(run.status).toBe('succeeded');
      // Executed where it was claimed, by one of the two.
      expect(startedOn.get(run.id)).toBe(run.workerId);
    }
    // Once a stopped, b fired and executed every later slot on its own.
    const afterStop = items.filter((run) => (run.scheduledFor?.getTime() ?? 0) > aStopped);
    expect(afterStop.length).toBeGreaterThanOrEqual(2);
    expect(afterStop.map((run) => run.workerId)).toEqual(afterStop.map(() => 'b'));
  });

  it('a trigger on one instance starts on another within milliseconds', async () => {
    const store = memoryStore();
    const worker = createScheduler({
      store,
      instanceId: 'worker',
      logger: false,
      maintenanceJobs: false,
      pollInterval: '10s',
      executors: { job: { run: () => {} } },
    });
    const web = createScheduler({
      store,
      instanceId: 'web',
      logger: false,
      maintenanceJobs: false,
      executors: { job: { run: () => {} } },
    });
    await worker.start();
    await sleep(50); // let the worker's first tick pass so only the wake-up can start the run
    const startedAt = new Promise<number>((resolve) => worker.once('run:started', () => resolve(Date.now())));
    const before = Date.now();
    await web.trigger({ executor: 'job' });
    const latency = (await startedAt) - before;
    await worker.stop();
    expect(latency).toBeLessThan(500);
  });

  it('one-offs, alone or in a batch, and retries start at their time on the instance that created them, with a long poll', async () => {
    const lags: Record<string, number[]> = {};
    const scheduler = createScheduler({
      store: memoryStore(),
      logger: false,
      maintenanceJobs: false,
      pollInterval: '10s',
      executors: {
        note: {
          run: (ctx) => {
            const { what, due } = ctx.params as { what: string; due: number };
            lags[what] = [...(lags[what] ?? []), Date.now() - due];
            if (what === 'retry' && ctx.run.attempt === 1) throw new Error('first attempt fails');
          },
        },
      },
    });
    await scheduler.start();
    await sleep(50);
    // Each in a quiet loop of its own, so that nothing else wakes it for the run's time.
    const at = Date.now() + 300;
    await scheduler.schedule({ executor: 'note', at: new Date(at), params: { what: 'one-off', due: at } });
    await sleep(900);
    const batchAt = Date.now() + 300;
    await scheduler.schedule([
      { executor: 'note', at: new Date(batchAt), params: { what: 'batch', due: batchAt } },
    ]);
    await sleep(900);
    await scheduler.jobs.create({
      name: 'flaky',
      executor: 'note',
      schedule: '@yearly',
      params: { what: 'retry', due: Date.now() },
      retry: { limit: 1, backoff: { type: 'fixed', delay: '300ms' } },
    });
    await scheduler.trigger({ job: 'flaky' });
    await sleep(600);
    await scheduler.stop();
    expect(lags['one-off']?.length).toBe(1);
    expect(lags.batch?.length).toBe(1);
    expect(lags.retry?.length).toBe(2);
    // Well within the 10 s poll: each was woken for, not found by polling.
    for (const lag of [...(lags['one-off'] ?? []), ...(lags.batch ?? [])]) expect(lag).toBeLessThan(200);
    expect((lags.retry?.[1] ?? 0) - (lags.retry?.[0] ?? 0)).toBeLessThan(300 + 200);
  });

  it('a cancel asked on one instance stops a run executing on another at once', async () => {
    const store = memoryStore();
    const waits = {
      run: (ctx: { signal: AbortSignal }) =>
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    };
    // A long lease: only the cross-instance notification, not a heartbeat, can deliver the cancel.
    const worker = createScheduler({
      store,
      instanceId: 'worker',
      logger: false,
      lease: '60s',
      executors: { waits },
    });
    const web = createScheduler({
      store,
      instanceId: 'web',
      logger: false,
      lease: '60s',
      executors: { waits },
    });
    const started = new Promise((resolve) => worker.once('run:started', resolve));
    await worker.start();
    const run = await web.trigger({ executor: 'waits' });
    await started;
    const cancelled = new Promise<number>((resolve) =>
      worker.once('run:cancelled', () => resolve(Date.now())),
    );
    const before = Date.now();
    await web.cancel(run.id, { by: 'ops' });
    expect((await cancelled) - before).toBeLessThan(500);
    await worker.stop();
    // Who asked travels with the notification, as it does when the run executes where it is asked.
    expect(await web.runs.get(run.id)).toMatchObject({
      status: 'cancelled',
      error: { code: 'cancelled', message: 'cancelled by ops' },
    });
  });

  it('stop() lets a running run finish within the grace, and aborts it after', async () => {
    const store = memoryStore();
    let finished = 0;
    const scheduler = createScheduler({
      store,
      logger: false,
      maintenanceJobs: false,
      executors: {
        quick: { run: () => sleep(100).then(() => void finished++) },
        endless: {
          run: (ctx) =>
            new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
        },
      },
    });
    await scheduler.start();
    const quick = await scheduler.trigger({ executor: 'quick' });
    const endless = await scheduler.trigger({ executor: 'endless' });
    await sleep(50);
    await scheduler.stop({ grace: '300ms' });
    expect(finished).toBe(1);
    expect((await scheduler.runs.get(quick.id)).status).toBe('succeeded');
    expect((await scheduler.runs.get(endless.id)).error?.code).toBe('shutdown');
  });

  it('reports loop failures as scheduler:error events and keeps going', async () => {
    const store = memoryStore();
    const scheduler = createScheduler({ store, logger: false, maintenanceJobs: false, pollInterval: '20ms' });
    const original = store.findDueJobs.bind(store);
    let calls = 0;
    store.findDueJobs = (query) =>
      ++calls === 1 ? Promise.reject(new Error('connection reset')) : original(query);
    const errors: string[] = [];
    scheduler.on('scheduler:error', ({ error, operation }) => errors.push(`${operation}: ${error.message}`));
    await scheduler.start();
    await sleep(120);
    await scheduler.stop();
    expect(errors).toEqual(['tick: connection reset']);
    expect(calls).toBeGreaterThan(2);
  });
});
