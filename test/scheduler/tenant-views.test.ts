import { jobAsSeenBy, NotFoundError, runAsSeenBy, ValidationError } from '@cronkeeper/core';
import { newJob, newRun } from '@cronkeeper/core/testing';
import { describe, expect, it } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

const SECRET = 'postgres://admin:s3cret@db.internal/prod';
const INSTANCE = 'billing-host-7.internal-4242';

/**
 * A global backup job that failed with its connection string in the error, and a tenant job that
 * succeeded: what each side may see of the other.
 */
async function mixedTenants() {
  const setup = fakeTimeScheduler(
    '2026-03-10T10:00:00Z',
    {
      backup: { run: (ctx) => Promise.reject(new Error(`cannot reach ${String(ctx.params.url)}`)) },
      sync: { run: () => ({ synced: 3 }) },
    },
    { instanceId: INSTANCE },
  );
  const { scheduler } = setup;
  await scheduler.jobs.create({
    name: 'db-backup',
    schedule: '*/5 * * * *',
    executor: 'backup',
    params: { url: SECRET },
    metadata: { pager: 'ops-oncall' },
    createdBy: 'root@ops',
  });
  await scheduler.jobs.create({ name: 'sync', tenantId: 'acme', schedule: '0 18 * * *', executor: 'sync' });
  await scheduler.trigger({ job: 'db-backup' });
  await scheduler.trigger({ job: 'sync', tenantId: 'acme' });
  await scheduler.runDue();
  return setup;
}

describe('what a tenant sees of global jobs and runs', () => {
  it('lists global jobs without their params, metadata, authors or run outcomes', async () => {
    const { scheduler } = await mixedTenants();
    const seen = await scheduler.jobs.list({ tenantId: 'acme', includeGlobal: true });
    expect(JSON.stringify(seen)).not.toContain('s3cret');
    expect(JSON.stringify(seen)).not.toContain('ops-oncall');
    const global = seen.find((job) => job.name === 'db-backup');
    expect(global).toMatchObject({
      tenantId: null,
      schedule: '*/5 * * * *',
      params: {},
      metadata: {},
      lastRunId: null,
      lastRunAt: null,
      lastStatus: null,
      lastError: null,
      lastDurationMs: null,
      runCount: 0,
      errorCount: 0,
      consecutiveFailures: 0,
      createdBy: null,
    });
    expect(global?.tasks).toEqual([{ executor: 'backup', enabled: true, params: {} }]);
    expect(global?.nextRunAt).not.toBeNull();
    // Its own job keeps everything.
    expect(seen.find((job) => job.name === 'sync')).toMatchObject({ lastStatus: 'succeeded', runCount: 1 });
    // An operator sees the global job whole.
    const full = await scheduler.jobs.get('db-backup');
    expect(full).toMatchObject({
      lastStatus: 'failed',
      errorCount: 1,
      consecutiveFailures: 1,
      params: { url: SECRET },
    });
    expect(full.lastError).toContain('s3cret');
  });

  it("keeps a tenant's audit trail to its own entries: a global job's params and authors never show", async () => {
    const { scheduler } = await mixedTenants();
    await scheduler.jobs.update('db-backup', { params: { url: `${SECRET}-2` }, updatedBy: 'root@ops' });
    const own = await scheduler.audit.list({ tenantId: 'acme' });
    expect(own.items.map((entry) => [entry.action, entry.job, entry.tenantId])).toEqual([
      ['triggered', 'sync', 'acme'],
      ['created', 'sync', 'acme'],
    ]);
    expect(JSON.stringify(own)).not.toContain('s3cret');
    expect(JSON.stringify(own)).not.toContain('root@ops');
    // Asking for the global entries too is refused, not silently widened.
    await expect(
      scheduler.audit.list({ tenantId: 'acme', includeGlobal: true } as { tenantId: string }),
    ).rejects.toThrow(ValidationError);
    // An operator reads the global trail.
    const global = await scheduler.audit.list({ tenantId: null });
    expect(global.items.map((entry) => entry.action)).toEqual(['updated', 'triggered', 'created']);
  });

  it('reads a global job by name as a tenant may see it, and never changes it through a tenant scope', async () => {
    const { scheduler } = await mixedTenants();
    const seen = await scheduler.jobs.get('db-backup', { tenantId: 'acme', includeGlobal: true });
    expect(seen).toMatchObject({ tenantId: null, lastError: null, params: {}, runCount: 0 });
    await expect(scheduler.jobs.get('db-backup', { tenantId: 'acme' })).rejects.toBeInstanceOf(NotFoundError);
    const sneaky = { tenantId: 'acme', includeGlobal: true } as { tenantId: string };
    await expect(scheduler.jobs.update('db-backup', { description: 'mine' }, sneaky)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(scheduler.jobs.pause('db-backup', 'x', sneaky)).rejects.toBeInstanceOf(NotFoundError);
    await expect(scheduler.jobs.delete('db-backup', sneaky)).rejects.toBeInstanceOf(NotFoundError);
    expect((await scheduler.jobs.get('db-backup')).enabled).toBe(true);
  });

  it("builds a tenant's dashboard from its own runs: global jobs listed without outcomes", async () => {
    const { scheduler } = await mixedTenants();
    const view = await scheduler.dashboard({ tenantId: 'acme' });
    expect(JSON.stringify(view)).not.toContain('s3cret');
    expect(view.jobs.find((job) => job.name === 'db-backup')).toMatchObject({
      status: 'idle',
      lastRun: null,
      runCount: 0,
      errorCount: 0,
    });
    expect(view.jobs.find((job) => job.name === 'sync')).toMatchObject({ status: 'succeeded', runCount: 1 });
    expect(view.executors.find((executor) => executor.name === 'backup')).toMatchObject({
      status: 'idle',
      lastRun: null,
      runCount: 0,
      errorCount: 0,
    });
    const operator = await scheduler.dashboard();
    expect(operator.executors.find((executor) => executor.name === 'backup')).toMatchObject({
      status: 'failed',
      errorCount: 1,
    });
  });

  it("counts only the tenant's own runs in its stats, and its own next run", async () => {
    const { scheduler, clock } = await mixedTenants();
    const stats = await scheduler.stats({ tenantId: 'acme' });
    expect(stats).toMatchObject({ executions24h: 1, failures24h: 0, successRate: 1, running: 0 });
    expect(stats.nextRunAt).toEqual(new Date('2026-03-10T18:00:00Z'));
    const today = stats.timeline.at(-1);
    expect(today).toMatchObject({ date: '2026-03-10', succeeded: 1, failed: 0 });
    const operator = await scheduler.stats();
    expect(operator).toMatchObject({ executions24h: 2, failures24h: 1 });
    expect(operator.nextRunAt?.getTime()).toBeLessThan(clock.now().getTime() + 5 * 60_000 + 1);
  });
});

describe('the instance id stays out of what tenants read', () => {
  it('keeps it out of the error of a run whose executor this instance lacks', async () => {
    const { scheduler, store } = fakeTimeScheduler('2026-03-10T10:00:00Z', {}, { instanceId: INSTANCE });
    await store.init();
    await store.insertJob(
      newJob({
        name: 'orphan',
        tenantId: 'acme',
        nextRunAt: new Date('2026-03-10T10:00:00Z'),
        tasks: [{ executor: 'retired', enabled: true, params: {} }],
      }),
    );
    const refused = await scheduler
      .trigger({ job: 'orphan', tenantId: 'acme' })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as Error).message).toMatch(/"retired" is not registered/);
    expect((refused as Error).message).not.toContain('billing-host');
    await scheduler.runDue();
    const [run] = (await scheduler.runs.list({ tenantId: 'acme' })).items;
    expect(run?.error?.code).toBe('unknown_executor');
    expect(run?.error?.message).not.toContain('billing-host');
    expect(run?.workerId).toBe(INSTANCE);
    expect(runAsSeenBy(run as never, 'acme').workerId).toBeNull();
    expect(runAsSeenBy(run as never, null).workerId).toBe(INSTANCE);
  });

  it('keeps it out of the error of a run recovered after its instance vanished', async () => {
    const { scheduler, store, clock } = fakeTimeScheduler('2026-03-10T10:00:00Z', { sync: { run: () => 1 } });
    await store.init();
    const created = await store.createRun({
      run: newRun({ tenantId: 'acme', executor: 'sync', runAt: clock.now(), createdAt: clock.now() }),
      now: clock.now(),
      rejectIfActive: false,
    });
    await store.claimRuns({ workerId: INSTANCE, now: clock.now(), limit: 1, leaseMs: 1000 });
    clock.advance('1m');
    await scheduler.runDue();
    const recovered = await scheduler.runs.get(created.run.id);
    expect(recovered.error?.code).toBe('stale');
    expect(recovered.error?.message).not.toContain('billing-host');
    expect(JSON.stringify(runAsSeenBy(recovered, 'acme'))).not.toContain('billing-host');
  });

  it('leaves operators and a tenant its own records whole', () => {
    const job = { ...newJob({ tenantId: 'acme', params: { a: 1 } }), id: 'j1', version: 1 };
    expect(jobAsSeenBy(job, 'acme')).toBe(job);
    expect(jobAsSeenBy({ ...job, tenantId: null }, null).params).toEqual({ a: 1 });
    expect(jobAsSeenBy({ ...job, tenantId: null }, 'acme').params).toEqual({});
  });
});
