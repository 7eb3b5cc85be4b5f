import { memoryStore } from '@cronkeeper/adapter-memory';
import { ConflictError, createScheduler, type ScheduleTarget, ValidationError } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

const executors = { echo: { run: () => 'ok' } };

async function setup(oneOffLimits?: { perJob?: number | false; perTenant?: number | false }) {
  const env = fakeTimeScheduler('2026-03-10T10:00:00Z', executors, oneOffLimits ? { oneOffLimits } : {});
  for (const tenantId of [null, 'acme', 'globex'])
    for (const name of ['report', 'export'])
      await env.scheduler.jobs.create({ name, tenantId, schedule: '@yearly', executor: 'echo' });
  const later = (minutes: number) => new Date(env.clock.now().getTime() + minutes * 60_000);
  return { ...env, later };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

describe('caps on pending one-offs', () => {
  it("refuses a tenant's one-off once its job has perJob pending runs, until one leaves; other jobs are free", async () => {
    const { scheduler, later } = await setup({ perJob: 3 });
    const acme = { tenantId: 'acme' };
    const made = [];
    for (let i = 1; i <= 3; i++)
      made.push(await scheduler.schedule({ job: 'report', ...acme, at: later(i) }));
    const error = await refusal(scheduler.schedule({ job: 'report', ...acme, at: later(9) }));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/job "report" already has 3 pending runs/);
    expect((error as Error).message).toMatch(/oneOffLimits\.perJob/);
    await scheduler.schedule({ job: 'export', ...acme, at: later(1) });
    await scheduler.schedule({ job: 'report', tenantId: 'globex', at: later(1) });
    await scheduler.cancel(made[0]?.id as string);
    await scheduler.schedule({ job: 'report', ...acme, at: later(9) });
    const pending = await scheduler.runs.list({ job: 'report', ...acme, status: 'pending' });
    expect(pending.items).toHaveLength(3);
  });

  it('lets exactly perJob through when many one-offs for one job arrive at once', async () => {
    const { scheduler, later } = await setup({ perJob: 5 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) =>
        scheduler.schedule({ job: 'report', tenantId: 'acme', at: later(i + 1) }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(5);
    for (const outcome of outcomes.filter((item) => item.status === 'rejected'))
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    const pending = await scheduler.runs.list({ tenantId: 'acme', status: 'pending' });
    expect(pending.items).toHaveLength(5);
  });

  it('refuses a one-off once its tenant has perTenant pending runs, across its jobs and executors', async () => {
    const { scheduler, later } = await setup({ perJob: false, perTenant: 4 });
    await scheduler.schedule({ job: 'report', tenantId: 'acme', at: later(1) });
    await scheduler.schedule({ job: 'export', tenantId: 'acme', at: later(1) });
    await scheduler.schedule({ executor: 'echo', tenantId: 'acme', at: later(1) });
    await scheduler.trigger({ job: 'report', tenantId: 'acme', force: true });
    const error = await refusal(scheduler.schedule({ job: 'export', tenantId: 'acme', at: later(2) }));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/tenant "acme" already has 4 pending runs/);
    // Other tenants are not held back by acme's.
    for (let i = 0; i < 4; i++)
      await scheduler.schedule({ job: 'report', tenantId: 'globex', at: later(i + 1) });
  });

  it("leaves the host's global one-offs uncapped: a batch of them is the host's own doing", async () => {
    const { scheduler, later } = await setup({ perJob: 2, perTenant: 2 });
    for (let i = 0; i < 150; i++) await scheduler.schedule({ job: 'report', at: later(i + 1) });
    for (let i = 0; i < 150; i++) await scheduler.schedule({ executor: 'echo', at: later(i + 1) });
    const pending = await scheduler.runs.list({ tenantId: null, status: 'pending', limit: 500 });
    expect(pending.items).toHaveLength(300);
  });

  it('caps one-offs of an executor alone per executor and tenant', async () => {
    const { scheduler, later } = await setup({ perJob: 2 });
    await scheduler.schedule({ executor: 'echo', tenantId: 'acme', at: later(1) });
    await scheduler.schedule({ executor: 'echo', tenantId: 'acme', at: later(2) });
    const error = await refusal(scheduler.schedule({ executor: 'echo', tenantId: 'acme', at: later(3) }));
    expect((error as Error).message).toMatch(/executor "echo" already has 2 pending runs/);
    await scheduler.schedule({ executor: 'echo', tenantId: 'globex', at: later(3) });
  });

  it('defaults to 100 per job and 1000 per tenant, and false lifts a cap', async () => {
    const { scheduler, later } = await setup();
    for (let i = 0; i < 100; i++)
      await scheduler.schedule({ job: 'report', tenantId: 'acme', at: later(i + 1) });
    expect(
      await refusal(scheduler.schedule({ job: 'report', tenantId: 'acme', at: later(1) })),
    ).toBeInstanceOf(ConflictError);
    const open = await setup({ perJob: false, perTenant: false });
    for (let i = 0; i < 150; i++)
      await open.scheduler.schedule({ job: 'report', tenantId: 'acme', at: open.later(1) });
  });

  it('calls beforeCreate after the caps with the target, and creates nothing when it throws', async () => {
    const { scheduler, later } = await setup({ perJob: 1 });
    const seen: ScheduleTarget[] = [];
    const at = later(5);
    await scheduler.schedule({
      job: 'report',
      tenantId: 'acme',
      at,
      beforeCreate: (target) => void seen.push(target),
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ executor: null, tenantId: 'acme', at });
    expect(seen[0]?.job?.name).toBe('report');
    // Refused by the cap: the hook (the router's rate limit) is not spent.
    await refusal(
      scheduler.schedule({
        job: 'report',
        tenantId: 'acme',
        at,
        beforeCreate: () => void seen.push(at as never),
      }),
    );
    expect(seen).toHaveLength(1);
    const stop = new Error('over the limit');
    const error = await refusal(
      scheduler.schedule({
        job: 'export',
        tenantId: 'acme',
        at,
        beforeCreate: () => {
          throw stop;
        },
      }),
    );
    expect(error).toBe(stop);
    expect((await scheduler.runs.list({ tenantId: 'acme', job: 'export' })).items).toEqual([]);
  });

  it('refuses caps that are not positive whole numbers, naming the option', () => {
    for (const oneOffLimits of [{ perJob: 0 }, { perTenant: 1.5 }, { perJob: true }, { perDay: 3 }]) {
      const error = (() => {
        try {
          createScheduler({ store: memoryStore(), logger: false, oneOffLimits: oneOffLimits as never });
          return null;
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).path).toMatch(/^oneOffLimits/);
    }
  });
});
