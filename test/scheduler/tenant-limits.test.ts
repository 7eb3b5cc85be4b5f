import { ConflictError, ValidationError } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

const executors = { echo: { run: () => 'ok' } };

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error as Error,
  );

describe('tenantLimits', () => {
  it("refuses a tenant's job past maxJobs (ConflictError naming the option), even when created at once; global jobs and other tenants are free", async () => {
    const { scheduler } = fakeTimeScheduler(undefined, executors, { tenantLimits: { maxJobs: 3 } });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        scheduler.jobs.create({ name: `j${i}`, tenantId: 'acme', schedule: 'daily', executor: 'echo' }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3);
    const refused = outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(ConflictError);
    expect(refused.reason.message).toMatch(/tenant "acme" already has 3 jobs.*tenantLimits\.maxJobs is 3/);
    expect(await scheduler.jobs.list({ tenantId: 'acme' })).toHaveLength(3);
    const seeded = refusal(
      scheduler.jobs.seed([{ name: 'more', tenantId: 'acme', schedule: 'daily', executor: 'echo' }]),
    );
    expect(await seeded).toBeInstanceOf(ConflictError);
    await scheduler.jobs.create({ name: 'j0', tenantId: 'globex', schedule: 'daily', executor: 'echo' });
    for (let i = 0; i < 5; i++)
      await scheduler.jobs.create({ name: `g${i}`, schedule: 'daily', executor: 'echo' });
    await scheduler.jobs.delete('j0', { tenantId: 'acme' });
    await scheduler.jobs.create({ name: 'again', tenantId: 'acme', schedule: 'daily', executor: 'echo' });
  });

  it('holds maxJobs against seeds sent at once, and against a seed beside creations, as it does for creations', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, executors, { tenantLimits: { maxJobs: 10 } });
    const seedOf = (batch: number) =>
      Array.from({ length: 8 }, (_, i) => ({
        name: `s${batch}-${i}`,
        tenantId: 'acme',
        schedule: 'daily',
        executor: 'echo',
      }));
    const outcomes = await Promise.allSettled([
      ...[0, 1, 2, 3].map((batch) => scheduler.jobs.seed(seedOf(batch))),
      ...Array.from({ length: 4 }, (_, i) =>
        scheduler.jobs.create({ name: `c${i}`, tenantId: 'acme', schedule: 'daily', executor: 'echo' }),
      ),
    ]);
    for (const outcome of outcomes)
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(ConflictError);
    const stored = await scheduler.jobs.list({ tenantId: 'acme' });
    expect(stored.length).toBeLessThanOrEqual(10);
    // One seed of 8 and two creations fit; everything else was refused, not half-written.
    expect(stored.length).toBe(10);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3);
  });

  it("refuses a tenant's schedule firing more often than minInterval on create, update, dry run and seed, naming schedule", async () => {
    const { scheduler } = fakeTimeScheduler(undefined, executors, { tenantLimits: { minInterval: '5m' } });
    const acme = { tenantId: 'acme' };
    // Every second; every minute; and one that is mostly hourly but has two slots a minute apart.
    for (const schedule of ['* * * * * *', 'every_minute', '0,1 * * * *', 'every_2_minutes']) {
      const error = await refusal(
        scheduler.jobs.create({ name: 'hot', ...acme, schedule, executor: 'echo' }),
      );
      expect(error, schedule).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).path).toBe('schedule');
      expect(error?.message).toMatch(/tenantLimits\.minInterval/);
    }
    await scheduler.jobs.create({ name: 'ok', ...acme, schedule: '*/5 * * * *', executor: 'echo' });
    const update = await refusal(scheduler.jobs.update('ok', { schedule: '* * * * *' }, acme));
    expect((update as ValidationError).path).toBe('schedule');
    const dry = await refusal(
      scheduler.jobs.update('ok', { schedule: '* * * * *' }, { ...acme, dryRun: true }),
    );
    expect((dry as ValidationError).path).toBe('schedule');
    const seed = await refusal(
      scheduler.jobs.seed([{ name: 'ok', ...acme, schedule: '* * * * *', executor: 'echo' }], {
        overwrite: true,
      }),
    );
    expect((seed as ValidationError).path).toBe('jobs.0.schedule');
    // A seed with one entry over the cap creates none of them.
    const mixed = await refusal(
      scheduler.jobs.seed([
        { name: 'fine', ...acme, schedule: 'daily', executor: 'echo' },
        { name: 'busy', ...acme, schedule: '* * * * *', executor: 'echo' },
      ]),
    );
    expect((mixed as ValidationError).path).toBe('jobs.1.schedule');
    await expect(scheduler.jobs.get('fine', acme)).rejects.toThrow(/not found/);
    expect((await scheduler.jobs.get('ok', acme)).schedule).toBe('*/5 * * * *');
    // The host's own jobs are not capped.
    await scheduler.jobs.create({ name: 'hot', schedule: '* * * * * *', executor: 'echo' });
  });

  it("refuses a tenant's retry.limit over maxRetries, naming retry.limit; defaults apply without the option", async () => {
    const { scheduler } = fakeTimeScheduler(undefined, executors);
    const job = { name: 'r', tenantId: 'acme', schedule: 'daily', executor: 'echo' };
    const error = await refusal(scheduler.jobs.create({ ...job, retry: { limit: 100 } }));
    expect((error as ValidationError).path).toBe('retry.limit');
    expect(error?.message).toMatch(/at most 10 .*tenantLimits\.maxRetries/);
    await scheduler.jobs.create({ ...job, retry: { limit: 10 } });
    const update = await refusal(scheduler.jobs.update('r', { retry: { limit: 11 } }, { tenantId: 'acme' }));
    expect((update as ValidationError).path).toBe('retry.limit');
    const hot = await refusal(scheduler.jobs.create({ ...job, name: 'hot', schedule: '@secondly' }));
    expect((hot as ValidationError).path).toBe('schedule');
    await scheduler.jobs.create({ ...job, name: 'global', tenantId: null, retry: { limit: 100 } });
  });

  it('lifts a cap with false and refuses malformed limits naming the option', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, executors, {
      tenantLimits: { minInterval: false, maxRetries: false },
    });
    await scheduler.jobs.create({
      name: 'hot',
      tenantId: 'acme',
      schedule: '* * * * * *',
      executor: 'echo',
      retry: { limit: 100 },
    });
    expect(() => fakeTimeScheduler(undefined, executors, { tenantLimits: { maxJobs: 0 } })).toThrow(
      /tenantLimits\.maxJobs/,
    );
  });
});
