import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor, manualClock, ValidationError } from '@cronkeeper/core';
import { newJob } from '@cronkeeper/core/testing';
import { describe, expect, it } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

const DAY = 86_400_000;

/** The ValidationError a call throws or rejects with (fails the test if it does not). */
async function refusal(call: () => unknown): Promise<ValidationError> {
  let error: unknown = null;
  try {
    await call();
  } catch (caught) {
    error = caught;
  }
  expect(error, 'expected a ValidationError').toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

async function expectBound(call: () => unknown, path: string, limit: string) {
  const error = await refusal(call);
  expect(error.path).toBe(path);
  expect(error.message).toContain(`must be at most ${limit}`);
}

describe('stats({ since }) is bounded like days', () => {
  it('refuses a since older than the 366-day timeline, naming since, without building it', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T12:00:00Z');
    for (const since of ['0001-01-01', '-100000-01-01', '2025-02-28T23:59:59Z', new Date(-8.64e15)]) {
      const error = await refusal(() => scheduler.stats({ since }));
      expect(error.path).toBe('since');
      expect(error.message).toMatch(/2025-03-01 to today/);
    }
  });

  it('refuses a since after today and one that is not a date', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T12:00:00Z');
    for (const since of ['2026-03-02', 'yesterday', new Date(Number.NaN), 'x'.repeat(100)])
      expect((await refusal(() => scheduler.stats({ since: since as string }))).path).toBe('since');
  });

  it('accepts every since from 365 days back to today, one timeline entry per day', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T12:00:00Z');
    expect((await scheduler.stats({ since: '2025-03-01' })).timeline).toHaveLength(366);
    expect((await scheduler.stats({ since: '2026-03-01T23:00:00Z' })).timeline).toHaveLength(1);
    expect((await scheduler.stats({ days: 366 })).timeline).toHaveLength(366);
  });
});

describe('every duration input has a maximum', () => {
  it('refuses job durations past their limit, naming the field, on create and update', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { echo: { run: () => 'ok' } });
    const job = { name: 'j', schedule: 'daily', executor: 'echo' };
    await expectBound(() => scheduler.jobs.create({ ...job, timeout: '4000w' }), 'timeout', '30d');
    await expectBound(() => scheduler.jobs.create({ ...job, jitter: 1e308 }), 'jitter', '1d');
    await expectBound(() => scheduler.jobs.create({ ...job, misfireGrace: '367d' }), 'misfireGrace', '366d');
    await expectBound(
      () => scheduler.jobs.create({ ...job, retry: { limit: 3, backoff: { type: 'fixed', delay: '31d' } } }),
      'retry.backoff.delay',
      '30d',
    );
    await expectBound(
      () =>
        scheduler.jobs.create({
          ...job,
          retry: { limit: 3, backoff: { type: 'exponential', delay: '1s', max: Number.MAX_VALUE } },
        }),
      'retry.backoff.max',
      '30d',
    );
    expect(await scheduler.jobs.list()).toEqual([]);
    await scheduler.jobs.create({ ...job, timeout: '30d', jitter: '1d', misfireGrace: '366d' });
    await expectBound(() => scheduler.jobs.update('j', { timeout: 2 ** 31 * 100 }), 'timeout', '30d');
    await expectBound(() => scheduler.jobs.update('j', { jitter: '2d' }), 'jitter', '1d');
    expect((await scheduler.jobs.get('j')).jitterMs).toBe(DAY);
  });

  it('bounds the millisecond names a job is read back with (timeoutMs, jitterMs, misfireGraceMs) like the written ones', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { echo: { run: () => null } });
    const job = { name: 'j', schedule: 'daily', executor: 'echo' };
    await expectBound(() => scheduler.jobs.create({ ...job, timeoutMs: 2 ** 31 * 100 }), 'timeoutMs', '30d');
    await expectBound(() => scheduler.jobs.create({ ...job, jitterMs: 1e308 }), 'jitterMs', '1d');
    await expectBound(
      () => scheduler.jobs.create({ ...job, misfireGraceMs: 367 * DAY }),
      'misfireGraceMs',
      '366d',
    );
    expect(await scheduler.jobs.list()).toEqual([]);
    const created = await scheduler.jobs.create({ ...job, timeoutMs: 30 * DAY, jitterMs: DAY });
    await expectBound(() => scheduler.jobs.update('j', { ...created, jitterMs: 2 * DAY }), 'jitterMs', '1d');
    await expectBound(() => scheduler.jobs.update('j', { timeoutMs: 31 * DAY }), 'timeoutMs', '30d');
    expect((await scheduler.jobs.get('j')).timeoutMs).toBe(30 * DAY);
  });

  it('refuses scheduler, executor and maintenance durations past their limit', async () => {
    const store = memoryStore();
    const base = { store, logger: false as const };
    await expectBound(() => createScheduler({ ...base, lease: '31d' }), 'lease', '30d');
    await expectBound(() => createScheduler({ ...base, pollInterval: '2h' }), 'pollInterval', '1h');
    await expectBound(() => createScheduler({ ...base, retention: 1e308 }), 'retention', '3660d');
    await expectBound(() => createScheduler({ ...base, staleAfter: '9999999w' }), 'staleAfter', '3660d');
    await expectBound(() => defineExecutor({ timeout: '4000w', run: () => null }), 'timeout', '30d');
    await expectBound(
      () => defineExecutor({ estimatedDuration: Number.MAX_VALUE, run: () => null }),
      'estimatedDuration',
      '366d',
    );
    const { scheduler } = fakeTimeScheduler();
    await expectBound(() => scheduler.prune({ olderThan: 1e308 }), 'olderThan', '3660d');
    await expectBound(() => scheduler.cleanupStale({ olderThan: '99999999w' }), 'olderThan', '3660d');
    await expectBound(() => scheduler.stop({ grace: '2d' }), 'grace', '1d');
  });

  it('runs a job whose timeout is longer than a Node timer holds instead of timing it out at once', async () => {
    const slow = {
      timeout: '25d',
      run: () => new Promise<string>((resolve) => setTimeout(() => resolve('done'), 30)),
    };
    const { scheduler } = fakeTimeScheduler(undefined, { slow, alsoSlow: slow });
    await scheduler.jobs.create({ name: 'long', schedule: 'daily', executor: 'alsoSlow', timeout: '29d' });
    const viaJob = await scheduler.trigger({ job: 'long' });
    const viaExecutor = await scheduler.trigger({ executor: 'slow' });
    await scheduler.runDue();
    for (const run of [viaJob, viaExecutor]) {
      const done = await scheduler.runs.get(run.id);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
    }
  });

  it('gives slots a valid runAt even for a stored job whose jitter predates the limit', async () => {
    const clock = manualClock('2026-03-01T00:00:00Z');
    const store = memoryStore();
    const scheduler = createScheduler({
      store,
      clock,
      logger: false,
      maintenanceJobs: false,
      executors: { echo: { run: () => 'ok' } },
    });
    await store.init();
    await store.insertJob(
      newJob({
        name: 'legacy',
        jitterMs: 1e308,
        nextRunAt: clock.now(),
        tasks: [{ executor: 'echo', enabled: true, params: {} }],
      }),
    );
    await scheduler.runDue();
    const [run] = (await scheduler.runs.list()).items;
    expect(Number.isNaN(run?.runAt.getTime())).toBe(false);
    expect(run?.runAt.getTime()).toBeLessThanOrEqual(clock.now().getTime() + DAY);
  });

  it('keeps exponential retries at most the longest retry delay apart, whatever the attempt', async () => {
    const { scheduler, clock } = fakeTimeScheduler(undefined, {
      flaky: { run: () => Promise.reject(new Error('down')) },
    });
    await scheduler.jobs.create({
      name: 'flaky-job',
      schedule: '@yearly',
      executor: 'flaky',
      retry: { limit: 100, backoff: { type: 'exponential', delay: '1h' } },
    });
    await scheduler.trigger({ job: 'flaky-job' });
    let last = clock.now().getTime();
    for (let attempt = 1; attempt <= 14; attempt++) {
      await scheduler.runDue();
      const [next] = (await scheduler.runs.list({ status: 'pending' })).items;
      expect(next?.attempt).toBe(attempt + 1);
      const wait = (next?.runAt.getTime() ?? Number.NaN) - clock.now().getTime();
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(30 * DAY);
      clock.set(next?.runAt as Date);
      last = clock.now().getTime();
    }
    expect(Number.isFinite(last)).toBe(true);
  });
});
