import {
  CLEANUP_STALE_EXECUTOR,
  type JobInput,
  PRUNE_EXECUTOR,
  type Scheduler,
  type Store,
  ValidationError,
} from '@cronkeeper/core';
import { newJob, newRun } from '@cronkeeper/core/testing';
import { describe, expect, it } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

const DAY = 86_400_000;

/** The error a promise rejects with, or null when it resolves. */
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

async function expectRefused(promise: Promise<unknown>, path: string) {
  const error = await failure(promise);
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).path).toBe(path);
  expect((error as ValidationError).message).toMatch(/built-in maintenance executor/);
}

/** A scheduler whose tenants have finished runs: one per tenant (acme, globex) and one global. */
async function withHistory() {
  const setup = fakeTimeScheduler('2026-03-10T00:00:00Z', { echo: { run: () => 'ok' } });
  const { scheduler, clock } = setup;
  for (const tenantId of ['acme', 'globex', null]) {
    await scheduler.jobs.create({
      name: `sync-${tenantId ?? 'global'}`,
      tenantId,
      schedule: '@yearly',
      executor: 'echo',
    });
    await scheduler.trigger({ job: `sync-${tenantId ?? 'global'}`, tenantId });
  }
  await scheduler.runDue();
  clock.advance('2d');
  return setup;
}

/** A run that started long ago under a worker that holds it still (no lease lapse to recover it). */
async function stuckRun(store: Store, scheduler: Scheduler, tenantId: string | null, jobName: string) {
  const job = await store.insertJob(newJob({ name: jobName, tenantId, nextRunAt: null }));
  const startedAt = new Date(Date.parse('2026-03-01T00:00:00Z'));
  const created = await store.createRun({
    run: newRun({
      jobId: job.id,
      jobName,
      tenantId,
      runAt: startedAt,
      createdAt: startedAt,
      concurrencyKey: `job:${job.id}`,
    }),
    now: startedAt,
    rejectIfActive: false,
  });
  const { claimed } = await store.claimRuns({
    workerId: 'elsewhere',
    now: startedAt,
    limit: 1,
    leaseMs: 365 * DAY,
  });
  expect(claimed.map((run) => run.id)).toEqual([created.run.id]);
  return scheduler.runs.get(created.run.id);
}

/** A tenant job naming a built-in, as a store may hold one written before tenants were refused. */
async function legacyTenantJob(
  store: Store,
  tenantId: string,
  executor: string,
  params: Record<string, string | number>,
) {
  return store.insertJob(
    newJob({
      name: `legacy-${executor}`,
      tenantId,
      nextRunAt: null,
      tasks: [{ executor, enabled: true, params }],
    }),
  );
}

describe('built-in maintenance executors and tenants', () => {
  it('refuses a tenant job that names a built-in, by executor or in any task, on create', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { echo: { run: () => 'ok' } });
    const base = { name: 'wipe', tenantId: 'acme', schedule: 'daily' };
    await expectRefused(scheduler.jobs.create({ ...base, executor: PRUNE_EXECUTOR }), 'executor');
    await expectRefused(
      scheduler.jobs.create({ ...base, tasks: [{ executor: PRUNE_EXECUTOR, params: { olderThan: 0 } }] }),
      'tasks.0.executor',
    );
    await expectRefused(
      scheduler.jobs.create({ ...base, tasks: ['echo', CLEANUP_STALE_EXECUTOR] }),
      'tasks.1',
    );
    expect(await scheduler.jobs.list()).toEqual([]);
    // Global jobs may use them: that is what the built-in maintenance jobs are.
    await scheduler.jobs.create({ ...base, tenantId: null, executor: PRUNE_EXECUTOR });
  });

  it('refuses turning a tenant job into a built-in on update, and leaves the job as it was', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { echo: { run: () => 'ok' } });
    await scheduler.jobs.create({ name: 'sync', tenantId: 'acme', schedule: 'daily', executor: 'echo' });
    const scope = { tenantId: 'acme' };
    await expectRefused(
      scheduler.jobs.update('sync', { executor: CLEANUP_STALE_EXECUTOR }, scope),
      'executor',
    );
    await expectRefused(
      scheduler.jobs.update('sync', { tasks: ['echo', { executor: PRUNE_EXECUTOR }] }, scope),
      'tasks.1.executor',
    );
    const job = await scheduler.jobs.get('sync', scope);
    expect(job.tasks.map((task) => task.executor)).toEqual(['echo']);
    expect(job.version).toBe(1);
  });

  it('refuses seeding tenant jobs that name a built-in, creating none of the batch, also with overwrite', async () => {
    const { scheduler } = fakeTimeScheduler(undefined, { echo: { run: () => 'ok' } });
    const good: JobInput = { name: 'fine', tenantId: 'acme', schedule: 'daily', executor: 'echo' };
    const bad: JobInput = { name: 'wipe', tenantId: 'acme', schedule: 'daily', executor: PRUNE_EXECUTOR };
    await expectRefused(scheduler.jobs.seed([good, bad]), 'jobs.1.executor');
    expect(await scheduler.jobs.list()).toEqual([]);
    await scheduler.jobs.seed([good]);
    await expectRefused(
      scheduler.jobs.seed([{ ...good, tasks: [PRUNE_EXECUTOR], executor: undefined }], { overwrite: true }),
      'jobs.0.tasks.0',
    );
    expect((await scheduler.jobs.get('fine', { tenantId: 'acme' })).tasks[0]?.executor).toBe('echo');
  });

  it('refuses running or scheduling a built-in alone in a tenant', async () => {
    const { scheduler, clock } = fakeTimeScheduler();
    await expectRefused(scheduler.trigger({ executor: PRUNE_EXECUTOR, tenantId: 'acme' }), 'executor');
    await expectRefused(
      scheduler.schedule({
        executor: CLEANUP_STALE_EXECUTOR,
        tenantId: 'acme',
        at: new Date(clock.now().getTime() + 60_000),
      }),
      'executor',
    );
    expect((await scheduler.runs.list()).items).toEqual([]);
    expect((await scheduler.trigger({ executor: PRUNE_EXECUTOR })).tenantId).toBeNull();
  });

  it("a tenant's prune run deletes only that tenant's runs, whoever created the job", async () => {
    const { scheduler, store } = await withHistory();
    await legacyTenantJob(store, 'acme', PRUNE_EXECUTOR, { olderThan: 0 });
    const run = await scheduler.trigger({ job: `legacy-${PRUNE_EXECUTOR}`, tenantId: 'acme' });
    await scheduler.runDue();
    expect((await scheduler.runs.get(run.id)).result).toMatchObject({ deleted: 1 });
    const left = (await scheduler.runs.list()).items.map((item) => item.tenantId);
    expect(left.filter((tenant) => tenant !== 'acme').sort()).toEqual(['globex', null].sort());
    expect((await scheduler.runs.list({ tenantId: 'acme' })).items.map((item) => item.id)).toEqual([run.id]);
  });

  it("a tenant's stale sweep fails only that tenant's runs and names only its jobs", async () => {
    const { scheduler, store } = fakeTimeScheduler('2026-03-10T00:00:00Z');
    const mine = await stuckRun(store, scheduler, 'acme', 'acme-import');
    const theirs = await stuckRun(store, scheduler, 'globex', 'globex-payroll-db-password');
    const global = await stuckRun(store, scheduler, null, 'global-billing');
    await legacyTenantJob(store, 'acme', CLEANUP_STALE_EXECUTOR, { olderThan: '1d' });
    const sweep = await scheduler.trigger({ job: `legacy-${CLEANUP_STALE_EXECUTOR}`, tenantId: 'acme' });
    await scheduler.runDue();
    const done = await scheduler.runs.get(sweep.id);
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ updated: 1, jobs: ['acme-import'] });
    expect(JSON.stringify(done)).not.toContain('globex');
    expect(JSON.stringify(done)).not.toContain('global-billing');
    expect((await scheduler.runs.get(mine.id)).status).toBe('failed');
    expect((await scheduler.runs.get(theirs.id)).status).toBe('running');
    expect((await scheduler.runs.get(global.id)).status).toBe('running');
  });

  it('a global maintenance run keeps its scheduler-wide reach', async () => {
    const { scheduler, store } = fakeTimeScheduler('2026-03-10T00:00:00Z');
    await stuckRun(store, scheduler, 'acme', 'acme-import');
    await stuckRun(store, scheduler, 'globex', 'globex-payroll');
    await scheduler.jobs.create({
      name: 'sweep',
      schedule: 'daily',
      tasks: [{ executor: CLEANUP_STALE_EXECUTOR, params: { olderThan: '1d' } }],
    });
    const sweep = await scheduler.trigger({ job: 'sweep' });
    await scheduler.runDue();
    expect((await scheduler.runs.get(sweep.id)).result).toMatchObject({
      updated: 2,
      jobs: ['acme-import', 'globex-payroll'],
    });
    const { scheduler: other } = await withHistory();
    const prune = await other.trigger({ executor: PRUNE_EXECUTOR, params: { olderThan: 0 } });
    await other.runDue();
    expect((await other.runs.get(prune.id)).result).toMatchObject({ deleted: 3 });
  });
});

describe('options of the scheduler-wide calls', () => {
  it('refuses a misspelt or malformed option, naming it, and prunes or fails nothing', async () => {
    const { scheduler } = await withHistory();
    const before = (await scheduler.runs.list({})).items.length;
    const misspelt: (() => Promise<unknown>)[] = [
      // Ignored, a misspelt tenant key would prune or sweep every tenant.
      () => scheduler.prune({ tenantID: 'acme', olderThan: '1d' } as never),
      () => scheduler.cleanupStale({ tenantID: 'acme', olderThan: '1h' } as never),
      () => scheduler.stats({ tenantID: 'acme' } as never),
      () => scheduler.runDue({ limt: 5 } as never),
      () => scheduler.stop({ grce: '1s' } as never),
      () => scheduler.runs.get('any', { tenantID: 'acme' } as never),
      () => scheduler.jobs.delete('sync-acme', { tenantID: 'acme' } as never),
      // Ignored, a misspelt overwrite would report a changed definition as unchanged.
      () =>
        scheduler.jobs.seed([{ name: 'sync-global', schedule: '@daily', executor: 'echo' }], {
          overwrit: true,
        } as never),
    ];
    for (const call of misspelt) {
      const error = await failure(call());
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toMatch(/tenantID|limt|grce|overwrit/);
    }
    for (const tenantId of ['', 42, [], '\u0000', '\uD800', 'x'.repeat(300)]) {
      for (const call of [
        () => scheduler.prune({ tenantId, olderThan: 0 } as never),
        () => scheduler.cleanupStale({ tenantId } as never),
      ]) {
        const error = await failure(call());
        expect(error, JSON.stringify(tenantId)).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).path).toBe('tenantId');
      }
    }
    for (const options of ['acme', null, [], 5]) {
      for (const call of [
        () => scheduler.prune(options as never),
        () => scheduler.jobs.seed([], options as never),
      ]) {
        const error = await failure(call());
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).path).toBe('options');
      }
    }
    expect((await scheduler.jobs.get('sync-global')).schedule).toBe('@yearly');
    expect((await scheduler.runs.list({})).items).toHaveLength(before);
    expect(await scheduler.jobs.get('sync-acme', { tenantId: 'acme' })).toMatchObject({ name: 'sync-acme' });
    // Spelt right, the same calls work.
    expect(await scheduler.prune({ tenantId: 'acme', olderThan: '1d' })).toMatchObject({ deleted: 1 });
  });
});
