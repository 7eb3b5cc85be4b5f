import { expect } from 'vitest';
import type { CronAction } from '../../src/index.js';
import { type Harness, syncJob } from '../support/harness.js';
import type { Suite } from './table.js';

export const authorizationSuite: Suite = {
  name: 'authorization',
  options: { rateLimits: false },
  cases: [
    {
      name: '401 without a user, 403 for a viewer writing, 200 for a viewer reading',
      async run(h) {
        const anonymous = await h.call('GET', '/jobs', { user: null });
        expect(anonymous.status).toBe(401);
        expect(anonymous.json.error.code).toBe('UNAUTHENTICATED');
        const write = await h.call('POST', '/jobs', { body: syncJob('a'), role: 'viewer' });
        expect(write.status).toBe(403);
        expect(write.json.error.code).toBe('FORBIDDEN');
        expect((await h.call('GET', '/jobs', { role: 'viewer' })).status).toBe(200);
      },
    },
    {
      name: 'authorizes before reading the body: bad JSON from a stranger is a 401, not a 400',
      async run(h) {
        const answer = await h.call('POST', '/jobs', { raw: '{oops', user: null });
        expect(answer.status).toBe(401);
      },
    },
    {
      name: 'passes the action of each route to authorize',
      async run(_h, target) {
        const seen: CronAction[] = [];
        const other = await target.start({
          authorize: (_req, action) => {
            seen.push(action);
            return true;
          },
        });
        await other.call('GET', '/jobs');
        await other.call('POST', '/run-due');
        await other.call('GET', '/runs');
        await other.call('POST', '/executors/sync/trigger');
        expect(seen).toEqual(['jobs:read', 'scheduler:admin', 'runs:read', 'executors:trigger']);
      },
    },
    {
      name: 'a one-off needs its target’s trigger action besides runs:schedule, so it runs nothing a trigger would refuse',
      async run(h, target) {
        await h.call('POST', '/jobs', { body: syncJob('nightly') });
        const granted = (actions: CronAction[]) =>
          target.start(
            { authorize: (_req, action) => actions.includes(action) },
            { store: h.store, clock: h.clock },
          );
        const at = new Date(h.clock.now().getTime() + 1_500).toISOString();
        const scheduleOnly = await granted(['runs:schedule']);
        const executorOneOff = await scheduleOnly.call('POST', '/scheduled', {
          body: { executor: 'sync', at, params: { via: 'schedule' } },
        });
        expect(executorOneOff.status).toBe(403);
        expect(executorOneOff.json.error.message).toBe('not allowed to executors:trigger');
        const jobOneOff = await scheduleOnly.call('POST', '/scheduled', { body: { job: 'nightly', at } });
        expect(jobOneOff.status).toBe(403);
        expect(jobOneOff.json.error.message).toBe('not allowed to jobs:trigger');
        expect((await h.call('GET', '/runs')).json.data.items).toEqual([]);
        const both = await granted(['runs:schedule', 'executors:trigger', 'jobs:trigger']);
        expect((await both.call('POST', '/scheduled', { body: { executor: 'sync', at } })).status).toBe(201);
        expect((await both.call('POST', '/scheduled', { body: { job: 'nightly', at } })).status).toBe(201);
      },
    },
  ],
};

async function tenantFixture(h: Harness) {
  await h.call('POST', '/jobs', { body: syncJob('shared') });
  await h.call('POST', '/jobs', { body: syncJob('acme-sync', { tenantId: 'acme' }) });
  await h.call('POST', '/jobs', { body: syncJob('globex-sync', { tenantId: 'globex' }) });
}

export const tenantSuite: Suite = {
  name: 'tenants',
  options: { rateLimits: false },
  setup: tenantFixture,
  cases: [
    {
      name: 'a tenant lists its own jobs and the global ones, never another tenant’s',
      async run(h) {
        const list = await h.call('GET', '/jobs', { tenant: 'acme' });
        expect(list.json.data.map((job: { name: string }) => job.name).sort()).toEqual([
          'acme-sync',
          'shared',
        ]);
        expect((await h.call('GET', '/jobs/globex-sync', { tenant: 'acme' })).status).toBe(404);
        expect((await h.call('GET', '/jobs?tenantId=globex', { tenant: 'acme' })).status).toBe(403);
        expect((await h.call('GET', '/jobs/shared', { tenant: 'acme' })).status).toBe(200);
      },
    },
    {
      name: 'creates jobs in the caller’s tenant and refuses another tenant in the body',
      async run(h) {
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
      },
    },
    {
      name: 'global jobs are read-only to tenants: change, delete, pause and trigger are 403',
      async run(h) {
        expect(
          (await h.call('PATCH', '/jobs/shared', { body: { enabled: false }, tenant: 'acme' })).status,
        ).toBe(403);
        expect((await h.call('DELETE', '/jobs/shared', { tenant: 'acme' })).status).toBe(403);
        expect((await h.call('POST', '/jobs/shared/pause', { tenant: 'acme' })).status).toBe(403);
        expect((await h.call('POST', '/jobs/shared/trigger', { tenant: 'acme' })).status).toBe(403);
        expect((await h.call('GET', '/jobs/shared')).json.data.enabled).toBe(true);
      },
    },
    {
      name: 'PUT from a tenant where only a global job has the name creates the tenant’s own job, as POST would, and leaves the global one alone',
      async run(h) {
        const global = (await h.call('GET', '/jobs/shared')).json.data;
        const body = { schedule: '0 5 * * *', executor: 'sync', description: 'mine' };
        const created = await h.call('PUT', '/jobs/shared', { body, tenant: 'acme' });
        expect(created.status).toBe(201);
        expect(created.json.data).toMatchObject({ name: 'shared', tenantId: 'acme', schedule: '0 5 * * *' });
        const again = await h.call('PUT', '/jobs/shared', {
          body: { description: 'still mine' },
          tenant: 'acme',
        });
        expect(again.status).toBe(200);
        expect(again.json.data).toMatchObject({ tenantId: 'acme', description: 'still mine' });
        expect((await h.call('GET', '/jobs/shared')).json.data).toEqual(global);
        expect((await h.call('GET', '/jobs/shared', { tenant: 'acme' })).json.data.tenantId).toBe('acme');
      },
    },
    {
      name: 'a tenant cannot touch another tenant’s job even by the same name',
      async run(h) {
        expect((await h.call('DELETE', '/jobs/globex-sync', { tenant: 'acme' })).status).toBe(404);
        expect((await h.call('POST', '/jobs/globex-sync/trigger', { tenant: 'acme' })).status).toBe(404);
        expect((await h.call('GET', '/jobs/globex-sync?tenantId=globex')).status).toBe(200);
      },
    },
    {
      name: 'runs are scoped: a tenant sees and cancels only its own, and triggers are recorded in its tenant',
      async run(h) {
        const mine = (await h.call('POST', '/jobs/acme-sync/trigger', { tenant: 'acme', user: 'ann' })).json
          .data;
        expect(mine).toMatchObject({ tenantId: 'acme', triggeredBy: 'ann' });
        const theirs = (await h.call('POST', '/jobs/globex-sync/trigger', { tenant: 'globex' })).json.data;
        const list = await h.call('GET', '/runs', { tenant: 'acme' });
        expect(list.json.data.items.map((run: { id: string }) => run.id)).toEqual([mine.id]);
        expect((await h.call('GET', `/runs/${theirs.id}`, { tenant: 'acme' })).status).toBe(404);
        expect((await h.call('POST', `/runs/${theirs.id}/cancel`, { tenant: 'acme' })).status).toBe(404);
        expect((await h.call('GET', '/runs?tenantId=', { tenant: 'acme' })).status).toBe(403);
        const executorRun = (await h.call('POST', '/executors/sync/trigger', { tenant: 'acme' })).json.data;
        expect(executorRun.tenantId).toBe('acme');
      },
    },
    {
      name: 'scheduler-wide operations and built-in executors are for operators only',
      async run(h) {
        for (const path of ['/run-due', '/reload', '/maintenance/cleanup-stale', '/jobs/seed'])
          expect((await h.call('POST', path, { tenant: 'acme' })).status).toBe(403);
        const executors = await h.call('GET', '/executors', { tenant: 'acme' });
        expect(executors.json.data.every((executor: { builtIn: boolean }) => !executor.builtIn)).toBe(true);
        const builtIn = (await h.call('GET', '/executors')).json.data.find(
          (e: { builtIn: boolean }) => e.builtIn,
        );
        expect((await h.call('POST', `/executors/${builtIn.name}/trigger`, { tenant: 'acme' })).status).toBe(
          403,
        );
      },
    },
    {
      name: 'stats and dashboard cover the tenant’s own data',
      async run(h) {
        await h.call('POST', '/jobs/globex-sync/trigger', { tenant: 'globex' });
        await h.call('POST', '/run-due');
        const stats = await h.call('GET', '/stats', { tenant: 'acme' });
        expect(stats.json.data.executions24h).toBe(0);
        const dashboard = await h.call('GET', '/dashboard', { tenant: 'acme' });
        expect(dashboard.json.data.jobs.map((job: { name: string }) => job.name).sort()).toEqual([
          'acme-sync',
          'shared',
        ]);
      },
    },
  ],
};
