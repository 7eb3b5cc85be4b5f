import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler } from '@cronkeeper/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allowAll, type CronRouterOptions, cronRouter } from '../src/index.js';
import { type Harness, startHarness, syncJob } from './helpers.js';

describe('construction', () => {
  const scheduler = createScheduler({ store: memoryStore(), logger: false });

  it('requires authorize, with a message that says how to run open', () => {
    expect(() => cronRouter(scheduler, {} as CronRouterOptions)).toThrow(/authorize.*allowAll/);
  });

  it('rejects options of the wrong kind, naming them', () => {
    expect(() => cronRouter(scheduler, { authorize: allowAll, tenant: 'acme' } as never)).toThrow(/tenant/);
    expect(() =>
      cronRouter(scheduler, { authorize: allowAll, rateLimits: { perJob: { limit: 0, window: '1s' } } }),
    ).toThrow(/rateLimits\.perJob/);
    expect(() => cronRouter(scheduler, { authorize: allowAll, dashbord: true } as never)).toThrow(/dashbord/);
    expect(() => cronRouter({} as never, { authorize: allowAll })).toThrow(/createScheduler/);
  });

  it('accepts allowAll as an explicit open API', () => {
    expect(typeof cronRouter(scheduler, { authorize: allowAll })).toBe('function');
  });
});

describe('authorization', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ rateLimits: false });
  });
  afterEach(() => h.close());

  it('401 without a user, 403 for a viewer writing, 200 for a viewer reading', async () => {
    const anonymous = await h.call('GET', '/jobs', { user: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error.code).toBe('UNAUTHENTICATED');
    const write = await h.call('POST', '/jobs', { body: syncJob('a'), role: 'viewer' });
    expect(write.status).toBe(403);
    expect(write.json.error.code).toBe('FORBIDDEN');
    expect((await h.call('GET', '/jobs', { role: 'viewer' })).status).toBe(200);
  });

  it('authorizes before reading the body: bad JSON from a stranger is a 401, not a 400', async () => {
    const answer = await h.call('POST', '/jobs', {
      raw: '{oops',
      user: null,
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(401);
  });

  it('passes the action for each route to authorize', async () => {
    const seen: string[] = [];
    const other = await startHarness({
      authorize: (_req, action) => {
        seen.push(action);
        return true;
      },
    });
    try {
      await other.call('GET', '/jobs');
      await other.call('POST', '/run-due');
      await other.call('GET', '/runs');
      await other.call('POST', '/executors/sync/trigger');
      expect(seen).toEqual(['jobs:read', 'scheduler:admin', 'runs:read', 'executors:trigger']);
    } finally {
      await other.close();
    }
  });
});

describe('tenants', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ rateLimits: false });
    await h.call('POST', '/jobs', { body: syncJob('shared') });
    await h.call('POST', '/jobs', { body: syncJob('acme-sync', { tenantId: 'acme' }) });
    await h.call('POST', '/jobs', { body: syncJob('globex-sync', { tenantId: 'globex' }) });
  });
  afterEach(() => h.close());

  it('a tenant lists its own jobs and the global ones, never another tenant’s', async () => {
    const list = await h.call('GET', '/jobs', { tenant: 'acme' });
    expect(list.json.data.map((job: { name: string }) => job.name).sort()).toEqual(['acme-sync', 'shared']);
    expect((await h.call('GET', '/jobs/globex-sync', { tenant: 'acme' })).status).toBe(404);
    expect((await h.call('GET', '/jobs?tenantId=globex', { tenant: 'acme' })).status).toBe(403);
    expect((await h.call('GET', '/jobs/shared', { tenant: 'acme' })).status).toBe(200);
  });

  it('creates jobs in the caller’s tenant and refuses another tenant in the body', async () => {
    const created = await h.call('POST', '/jobs', { body: syncJob('mine'), tenant: 'acme' });
    expect(created.json.data.tenantId).toBe('acme');
    const other = await h.call('POST', '/jobs', {
      body: syncJob('theirs', { tenantId: 'globex' }),
      tenant: 'acme',
    });
    expect(other.status).toBe(403);
    const global = await h.call('POST', '/jobs', {
      body: syncJob('everyone', { tenantId: null }),
      tenant: 'acme',
    });
    expect(global.status).toBe(403);
  });

  it('global jobs are read-only to tenants: change, delete, pause and trigger are 403', async () => {
    expect((await h.call('PATCH', '/jobs/shared', { body: { enabled: false }, tenant: 'acme' })).status).toBe(
      403,
    );
    expect((await h.call('DELETE', '/jobs/shared', { tenant: 'acme' })).status).toBe(403);
    expect((await h.call('POST', '/jobs/shared/pause', { tenant: 'acme' })).status).toBe(403);
    expect((await h.call('POST', '/jobs/shared/trigger', { tenant: 'acme' })).status).toBe(403);
    expect((await h.call('GET', '/jobs/shared')).json.data.enabled).toBe(true);
  });

  it('a tenant cannot touch another tenant’s job even by the same name', async () => {
    expect((await h.call('DELETE', '/jobs/globex-sync', { tenant: 'acme' })).status).toBe(404);
    expect((await h.call('POST', '/jobs/globex-sync/trigger', { tenant: 'acme' })).status).toBe(404);
    expect((await h.call('GET', '/jobs/globex-sync?tenantId=globex')).status).toBe(200);
  });

  it('runs are scoped: a tenant sees and cancels only its own, and triggers are recorded in its tenant', async () => {
    const mine = (await h.call('POST', '/jobs/acme-sync/trigger', { tenant: 'acme', user: 'ann' })).json.data;
    expect(mine).toMatchObject({ tenantId: 'acme', triggeredBy: 'ann' });
    const theirs = (await h.call('POST', '/jobs/globex-sync/trigger', { tenant: 'globex' })).json.data;
    const list = await h.call('GET', '/runs', { tenant: 'acme' });
    expect(list.json.data.items.map((run: { id: string }) => run.id)).toEqual([mine.id]);
    expect((await h.call('GET', `/runs/${theirs.id}`, { tenant: 'acme' })).status).toBe(404);
    expect((await h.call('POST', `/runs/${theirs.id}/cancel`, { tenant: 'acme' })).status).toBe(404);
    expect((await h.call('GET', '/runs?tenantId=', { tenant: 'acme' })).status).toBe(403);
    const executorRun = (await h.call('POST', '/executors/sync/trigger', { tenant: 'acme' })).json.data;
    expect(executorRun.tenantId).toBe('acme');
  });

  it('scheduler-wide operations and built-in executors are for operators only', async () => {
    for (const path of ['/run-due', '/reload', '/maintenance/cleanup-stale', '/jobs/seed'])
      expect((await h.call('POST', path, { tenant: 'acme' })).status).toBe(403);
    const executors = await h.call('GET', '/executors', { tenant: 'acme' });
    expect(executors.json.data.every((executor: { builtIn: boolean }) => !executor.builtIn)).toBe(true);
    const builtIn = (await h.call('GET', '/executors')).json.data.find(
      (e: { builtIn: boolean }) => e.builtIn,
    );
    expect((await h.call('POST', `/executors/${builtIn.name}/trigger`, { tenant: 'acme' })).status).toBe(403);
  });

  it('stats and dashboard cover the tenant’s own data', async () => {
    await h.call('POST', '/jobs/globex-sync/trigger', { tenant: 'globex' });
    await h.call('POST', '/run-due');
    const stats = await h.call('GET', '/stats', { tenant: 'acme' });
    expect(stats.json.data.executions24h).toBe(0);
    const dashboard = await h.call('GET', '/dashboard', { tenant: 'acme' });
    expect(dashboard.json.data.jobs.map((job: { name: string }) => job.name).sort()).toEqual([
      'acme-sync',
      'shared',
    ]);
  });
});
