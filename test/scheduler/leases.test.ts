import { memoryStore } from '@cronkeeper/adapter-memory';
import {
  type Clock,
  createScheduler,
  type ExecutorDefinition,
  type Scheduler,
  type Store,
} from '@cronkeeper/core';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

const noop = { run: () => {} };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A scheduler on a 10 s lease, and a run of executor `a` that `workerId` claims now (and renews only if the test does). */
async function runClaimedBy(workerId: string) {
  const fixture = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: noop }, { lease: '10s' });
  const run = await fixture.scheduler.trigger({ executor: 'a' });
  await fixture.store.claimRuns({ workerId, now: fixture.clock.now(), limit: 1, leaseMs: 10_000 });
  return { ...fixture, run };
}

describe('lease recovery in fake time', () => {
  it('takes a vanished worker’s run over once this instance watched its lease lapse, unrenewed, for a whole lease', async () => {
    const { scheduler, clock, store } = fakeTimeScheduler(
      '2026-03-01T00:00:00Z',
      { a: noop },
      { lease: '10s' },
    );
    await scheduler.jobs.create({
      name: 'j',
      schedule: 'daily',
      executor: 'a',
      retry: { limit: 1, backoff: { type: 'fixed', delay: '1m' } },
    });
    const run = await scheduler.trigger({ job: 'j' });
    // A worker claims it and dies without heartbeats: its lease runs to +10 s.
    await store.claimRuns({ workerId: 'dead-worker', now: clock.now(), limit: 1, leaseMs: 10_000 });
    clock.advance('5s');
    await scheduler.runDue(); // first sight of the lease, at +5 s
    clock.advance('6s');
    await scheduler.runDue(); // lapsed a second ago, but watched for 6 s only
    expect((await scheduler.runs.get(run.id)).status).toBe('running');
    clock.advance('4s');
    await scheduler.runDue(); // watched unrenewed for a whole lease
    const recovered = await scheduler.runs.get(run.id);
    expect(recovered).toMatchObject({ status: 'failed', error: { code: 'stale' } });
    const retry = (await scheduler.runs.list({ trigger: 'retry' })).items[0];
    expect(retry).toMatchObject({ parentRunId: run.id, attempt: 2 });
    // The dead worker comes back: its finish is fenced out.
    const late = await store.finishRuns([
      {
        runId: run.id,
        fence: { workerId: 'dead-worker' },
        now: clock.now(),
        status: 'succeeded',
        result: null,
        error: null,
      },
    ]);
    expect(late).toEqual([null]);
  });

  it('sees a lease written at this very instant: runDue(), advance past one lease, runDue() takes it over (the testing guide)', async () => {
    // Claimed at this instant by a worker that dies at once: its lease ends exactly one lease on.
    const { scheduler, clock, run } = await runClaimedBy('dead-worker');
    await scheduler.runDue();
    clock.advance('10s');
    await scheduler.runDue(); // the lease ends now: not lapsed yet
    expect((await scheduler.runs.get(run.id)).status).toBe('running');
    clock.advance('1ms');
    await scheduler.runDue();
    expect(await scheduler.runs.get(run.id)).toMatchObject({ status: 'failed', error: { code: 'stale' } });
  });

  it('watches a renewed lease afresh: a worker that renews is never taken over, whatever the time', async () => {
    const { scheduler, clock, store, run } = await runClaimedBy('slow-worker');
    for (let step = 0; step < 6; step++) {
      clock.advance('9s');
      await scheduler.runDue();
      expect((await scheduler.runs.get(run.id)).status).toBe('running');
      // Renewed just before each look (even if late by this clock): a new lease value each time.
      const renewed = await store.renewLease({
        runId: run.id,
        workerId: 'slow-worker',
        now: new Date(clock.now().getTime() - 2_000),
        leaseMs: 10_000,
      });
      expect(renewed.ok).toBe(true);
    }
    clock.advance('9s');
    await scheduler.runDue(); // lapsed by 1 s, first seen now
    clock.advance('10s');
    await scheduler.runDue();
    expect((await scheduler.runs.get(run.id)).error?.code).toBe('stale');
  });

  it('a fresh instance (one runDue() call) takes over a lease that lapsed more than two leases ago, not less', async () => {
    const { scheduler, clock, store, run } = await runClaimedBy('dead-worker');
    const freshInstance = () =>
      createScheduler({
        store,
        clock,
        executors: { a: noop },
        logger: false,
        maintenanceJobs: false,
        lease: '10s',
      });
    clock.advance('30s'); // lapsed 20 s ago: exactly two leases, not more
    await freshInstance().runDue();
    expect((await scheduler.runs.get(run.id)).status).toBe('running');
    clock.advance('1ms');
    await freshInstance().runDue();
    expect((await scheduler.runs.get(run.id)).error?.code).toBe('stale');
  });

  it('takes every run of a vanished worker over in one pass, finishing them together, each with its retry', async () => {
    const { scheduler, clock, store } = fakeTimeScheduler(
      '2026-03-01T00:00:00Z',
      { a: noop },
      { lease: '10s' },
    );
    await scheduler.jobs.create({
      name: 'j',
      schedule: 'daily',
      executor: 'a',
      retry: { limit: 1, backoff: { type: 'fixed', delay: '1m' } },
    });
    const runs = await Promise.all(
      Array.from({ length: 5 }, () => scheduler.trigger({ job: 'j', force: true })),
    );
    await store.claimRuns({ workerId: 'dead-worker', now: clock.now(), limit: 5, leaseMs: 10_000 });
    const finishCalls: number[] = [];
    const finishRuns = store.finishRuns.bind(store);
    store.finishRuns = (inputs) => {
      finishCalls.push(inputs.length);
      return finishRuns(inputs);
    };
    clock.advance('11s');
    await scheduler.runDue();
    expect(finishCalls).toEqual([]);
    clock.advance('10s');
    await scheduler.runDue();
    for (const run of runs)
      expect(await scheduler.runs.get(run.id)).toMatchObject({ status: 'failed', error: { code: 'stale' } });
    const retries = (await scheduler.runs.list({ trigger: 'retry' })).items;
    expect(retries.map((retry) => retry.parentRunId).sort()).toEqual(runs.map((run) => run.id).sort());
    expect(finishCalls[0]).toBe(5);
    expect((await scheduler.jobs.get('j')).runCount).toBe(5);
  });
});

/** When each execution of the `long` / `quick` executors began and ended (monotonic ms), by run. */
interface Execution {
  runId: string;
  instance: string;
  start: number;
  stop: number | null;
  outcome: string;
}

function recordingExecutors(executions: Execution[], instance: string): Record<string, ExecutorDefinition> {
  const record = (runId: string): Execution => {
    const execution: Execution = {
      runId,
      instance,
      start: performance.now(),
      stop: null,
      outcome: 'running',
    };
    executions.push(execution);
    return execution;
  };
  return {
    // Runs for `ms` unless its signal aborts first.
    long: {
      run: (ctx) => {
        const execution = record(ctx.run.id);
        const ms = (ctx.params as { ms?: number }).ms ?? 1_000;
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            execution.stop = performance.now();
            execution.outcome = 'done';
            resolve();
          }, ms);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            execution.stop = performance.now();
            execution.outcome = `aborted: ${(ctx.signal.reason as { code?: string }).code}`;
            reject(ctx.signal.reason);
          });
        });
      },
    },
  };
}

/** A view of `store` whose lease renewals never answer while `cut.renewals` is set: a worker cut off. */
function partitioned(store: Store, cut: { renewals: boolean }): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'renewLease' && cut.renewals) return () => new Promise(() => {});
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Executions that overlap in time (start of one before the stop of another). */
function overlaps(executions: Execution[]): string[] {
  const found: string[] = [];
  const sorted = [...executions].sort((a, b) => a.start - b.start);
  for (let index = 1; index < sorted.length; index++) {
    const previous = sorted[index - 1] as Execution;
    const current = sorted[index] as Execution;
    const end = previous.stop ?? Number.POSITIVE_INFINITY;
    if (current.start < end)
      found.push(
        `${current.instance} started ${current.runId} ${(end - current.start).toFixed(1)} ms before ${previous.instance} stopped ${previous.runId}`,
      );
  }
  return found;
}

describe('leases across instances (real time)', () => {
  const started: Scheduler[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((scheduler) => scheduler.stop({ grace: 0 })));
  });

  function instance(
    store: Store,
    name: string,
    executions: Execution[],
    options: { leaseMs: number; aheadMs?: number },
  ) {
    const clock: Clock = { now: () => new Date(Date.now() + (options.aheadMs ?? 0)) };
    const scheduler = createScheduler({
      store,
      clock,
      instanceId: name,
      logger: false,
      maintenanceJobs: false,
      lease: options.leaseMs,
      pollInterval: 50,
      executors: recordingExecutors(executions, name),
    });
    started.push(scheduler);
    return scheduler;
  }

  it('an instance whose clock runs two leases ahead never takes over a run its worker keeps renewing', async () => {
    const store = memoryStore();
    const executions: Execution[] = [];
    const leaseMs = 300;
    const worker = instance(store, 'worker', executions, { leaseMs });
    const ahead = instance(store, 'ahead', executions, { leaseMs, aheadMs: 2 * leaseMs });
    await worker.jobs.create({
      name: 'exclusive',
      schedule: '0 0 1 1 *',
      executor: 'long',
      params: { ms: 1_500 },
      overlap: 'skip',
      retry: { limit: 1, backoff: { type: 'fixed', delay: 0 } },
    });
    await worker.start();
    const run = await worker.trigger({ job: 'exclusive' });
    while (executions.length === 0) await sleep(10);
    await ahead.start();
    await sleep(1_700);
    expect((await worker.runs.get(run.id)).status).toBe('succeeded');
    expect(executions.map(({ instance, outcome }) => `${instance} ${outcome}`)).toEqual(['worker done']);
    expect((await worker.runs.list({ trigger: 'retry' })).items).toEqual([]);
  });

  it('a worker cut off from the store stops its executor before another instance, even one two leases ahead, takes the run over', async () => {
    const store = memoryStore();
    const executions: Execution[] = [];
    const leaseMs = 400;
    const cut = { renewals: false };
    const worker = instance(partitioned(store, cut), 'worker', executions, { leaseMs });
    const ahead = instance(store, 'ahead', executions, { leaseMs, aheadMs: 2 * leaseMs });
    await worker.jobs.create({
      name: 'exclusive',
      schedule: '0 0 1 1 *',
      executor: 'long',
      params: { ms: 3_000 },
      overlap: 'skip',
      retry: { limit: 1, backoff: { type: 'fixed', delay: 0 } },
    });
    cut.renewals = true;
    await worker.start();
    const run = await worker.trigger({ job: 'exclusive' });
    while (executions.length === 0) await sleep(5);
    await ahead.start();
    // The worker gives up at 0.9 lease; the other instance takes over and runs the retry.
    const deadline = Date.now() + 5_000;
    while (executions.length < 2 && Date.now() < deadline) await sleep(10);
    await sleep(50);
    expect(overlaps(executions)).toEqual([]);
    const [first, second] = executions;
    expect(first).toMatchObject({ instance: 'worker', outcome: 'aborted: lease_lost' });
    expect(second).toMatchObject({ instance: 'ahead' });
    // Given up at 0.9 lease after the claim, not earlier: no renewal could have answered.
    expect((first?.stop ?? 0) - (first?.start ?? 0)).toBeGreaterThan(leaseMs * 0.9 - 50);
    const recovered = await ahead.runs.get(run.id);
    expect(recovered).toMatchObject({ status: 'failed', error: { code: 'stale' }, workerId: 'worker' });
    const [retry] = (await ahead.runs.list({ trigger: 'retry' })).items;
    expect(retry).toMatchObject({ parentRunId: run.id, workerId: 'ahead' });
  });

  it('a worker whose renewals stall for less than the hold keeps its run', async () => {
    const store = memoryStore();
    const executions: Execution[] = [];
    const leaseMs = 600;
    const cut = { renewals: false };
    const worker = instance(partitioned(store, cut), 'worker', executions, { leaseMs });
    const other = instance(store, 'other', executions, { leaseMs });
    const run = await worker.trigger({ executor: 'long', params: { ms: 1_500 } });
    await Promise.all([worker.start(), other.start()]);
    while (executions.length === 0) await sleep(5);
    // One heartbeat (every 200 ms) is lost; the next one answers well within 0.9 lease.
    cut.renewals = true;
    await sleep(250);
    cut.renewals = false;
    await sleep(1_400);
    expect(executions.map(({ instance, outcome }) => `${instance} ${outcome}`)).toEqual(['worker done']);
    expect((await worker.runs.get(run.id)).status).toBe('succeeded');
  });
});
