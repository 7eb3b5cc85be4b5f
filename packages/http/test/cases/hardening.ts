import { newJob } from '@cronkeeper/core/testing';
import { expect } from 'vitest';
import { type Harness, syncJob } from '../support/harness.js';
import type { Suite } from './table.js';

const SECRET = 'postgres://backup:s3cret@db.internal/prod';

/** The path of the first issue of a 400. */
const issuePath = (answer: { json: { error: { details?: { issues?: { path: string }[] } } } }) =>
  answer.json.error.details?.issues?.[0]?.path;

/** A one-off `ms` after the harness's now. */
const inMs = (h: Harness, ms: number) => new Date(h.clock.now().getTime() + ms).toISOString();

/**
 * A global job that failed with the operator's secret in its params and its error, and a tenant
 * job that ran: what the tenant may read of the other side.
 */
async function mixedFixture(h: Harness) {
  await h.call('POST', '/jobs', {
    body: {
      name: 'backup',
      schedule: '0 1 * * *',
      executor: 'broken',
      params: { dsn: SECRET },
      metadata: { pager: 'ops' },
    },
  });
  await h.call('POST', '/jobs', { body: syncJob('acme-sync', { tenantId: 'acme' }) });
  expect((await h.call('POST', '/jobs/backup/trigger')).status).toBe(202);
  expect((await h.call('POST', '/jobs/acme-sync/trigger', { tenant: 'acme' })).status).toBe(202);
  const due = await h.call('POST', '/run-due');
  expect(due.json.data.summary).toMatchObject({ executed: 1, failed: 1 });
}

export const hardeningSuite: Suite = {
  name: 'tenants, limits and bounds (hardening)',
  cases: [
    {
      name: 'refuses built-in maintenance executors in a tenant job on POST, PUT, PATCH and seed (400 naming the field)',
      async run(h) {
        const prune = [{ executor: 'cronkeeper.prune', params: { olderThan: 0 } }];
        const post = await h.call('POST', '/jobs', {
          body: { name: 'wipe', schedule: 'daily', tasks: prune },
          tenant: 'acme',
        });
        expect(post.status).toBe(400);
        expect(issuePath(post)).toBe('tasks.0.executor');
        const put = await h.call('PUT', '/jobs/wipe', {
          body: { schedule: 'daily', executor: 'cronkeeper.cleanupStale' },
          tenant: 'acme',
        });
        expect(put.status).toBe(400);
        expect(issuePath(put)).toBe('executor');
        // An operator cannot place one in a tenant either.
        const operator = await h.call('PUT', '/jobs/wipe?tenantId=acme', {
          body: { schedule: 'daily', tasks: prune },
        });
        expect(operator.status).toBe(400);
        await h.call('POST', '/jobs', { body: syncJob('mine'), tenant: 'acme' });
        const patch = await h.call('PATCH', '/jobs/mine', {
          body: { tasks: ['sync', 'cronkeeper.prune'] },
          tenant: 'acme',
        });
        expect(patch.status).toBe(400);
        expect(issuePath(patch)).toBe('tasks.1');
        const seed = await h.call('POST', '/jobs/seed', {
          body: { jobs: [syncJob('fine'), { name: 'wipe', schedule: 'daily', tasks: prune }] },
          tenant: 'acme',
        });
        expect(seed.status).toBe(400);
        expect(issuePath(seed)).toBe('jobs.1.tasks.0.executor');
        expect((await h.call('POST', '/executors/cronkeeper.prune/trigger', { tenant: 'acme' })).status).toBe(
          403,
        );
        const oneOff = await h.call('POST', '/scheduled', {
          body: { executor: 'cronkeeper.cleanupStale', at: inMs(h, 3_600_000) },
          tenant: 'acme',
        });
        expect(oneOff.status).toBe(403);
        const jobs = await h.scheduler.jobs.list({ tenantId: 'acme' });
        expect(jobs.map((job) => [job.name, job.tasks.map((task) => task.executor)])).toEqual([
          ['mine', ['sync']],
        ]);
      },
    },
    {
      name: "a tenant's maintenance run stored before the rule touches only that tenant's runs",
      options: { rateLimits: false },
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('globex-sync', { tenantId: 'globex' }) });
        await h.call('POST', '/jobs/globex-sync/trigger', { tenant: 'globex' });
        await h.call('POST', '/run-due');
        await h.store.insertJob(
          newJob({
            name: 'wipe',
            tenantId: 'acme',
            nextRunAt: null,
            tasks: [{ executor: 'cronkeeper.prune', enabled: true, params: { olderThan: 0 } }],
          }),
        );
        h.clock.advance('1m');
        const wipe = await h.call('POST', '/jobs/wipe/trigger', { tenant: 'acme' });
        expect(wipe.status).toBe(202);
        await h.call('POST', '/run-due');
        expect(
          (await h.call('GET', `/runs/${wipe.json.data.id}`, { tenant: 'acme' })).json.data.result,
        ).toMatchObject({ deleted: 0 });
        expect((await h.call('GET', '/runs', { tenant: 'globex' })).json.data.items).toHaveLength(1);
      },
    },
    {
      name: 'GET /stats?since= older than the 366-day timeline is a 400 naming since',
      async run(h) {
        for (const since of ['0001-01-01', '-100000-01-01', '2025-01-01']) {
          const answer = await h.call('GET', `/stats?since=${encodeURIComponent(since)}`, { role: 'viewer' });
          expect(answer.status, since).toBe(400);
          expect(answer.json.error.message).toMatch(/since/);
        }
        const recent = await h.call('GET', '/stats?since=2026-03-01', { role: 'viewer' });
        expect(recent.status).toBe(200);
        expect(recent.json.data.timeline).toHaveLength(29);
      },
    },
    {
      name: 'durations past their maximum are a 400 naming the field',
      async run(h) {
        for (const [field, value] of [
          ['timeout', '4000w'],
          ['jitter', 1e308],
          ['misfireGrace', '9999d'],
        ] as const) {
          const answer = await h.call('POST', '/jobs', { body: syncJob(`j-${field}`, { [field]: value }) });
          expect(answer.status, field).toBe(400);
          expect(issuePath(answer)).toBe(field);
        }
        const prune = await h.call('POST', '/maintenance/prune', { body: { olderThan: 1e308 } });
        expect(prune.status).toBe(400);
      },
    },
    {
      name: "a tenant's job list, job, dashboard and stats carry nothing of global runs or configuration",
      options: { rateLimits: false },
      async run(h) {
        await mixedFixture(h);
        const reads = [
          '/jobs',
          '/jobs?tenantId=',
          '/jobs?includeGlobal=true',
          '/jobs/backup',
          '/dashboard',
          '/stats',
          '/runs',
          '/executors',
          '/scheduled',
        ];
        for (const path of reads) {
          const answer = await h.call('GET', path, { tenant: 'acme', role: 'viewer' });
          expect(answer.status, path).toBe(200);
          expect(answer.text, path).not.toContain('s3cret');
          expect(answer.text, path).not.toContain('upstream answered 503');
          expect(answer.text, path).not.toContain(h.scheduler.instanceId);
        }
        const backup = (await h.call('GET', '/jobs/backup', { tenant: 'acme' })).json.data;
        expect(backup).toMatchObject({
          tenantId: null,
          lastRunId: null,
          lastStatus: null,
          runCount: 0,
          params: {},
        });
        const stats = (await h.call('GET', '/stats', { tenant: 'acme' })).json.data;
        expect(stats).toMatchObject({ executions24h: 1, failures24h: 0, successRate: 1 });
        const board = (await h.call('GET', '/dashboard', { tenant: 'acme' })).json.data;
        expect(board.jobs.find((job: { name: string }) => job.name === 'backup')).toMatchObject({
          status: 'idle',
          lastRun: null,
          errorCount: 0,
        });
        // The operator still sees all of it.
        const full = await h.call('GET', '/jobs/backup');
        expect(full.text).toContain('s3cret');
        expect(full.json.data).toMatchObject({ lastStatus: 'failed', errorCount: 1 });
        expect((await h.call('GET', '/stats')).json.data).toMatchObject({ executions24h: 2, failures24h: 1 });
      },
    },
    {
      name: "a tenant's event stream shows global jobs as a tenant may see them, and no instance id",
      options: { rateLimits: false },
      async run(h) {
        await mixedFixture(h);
        const acme = await h.listen({ 'x-tenant': 'acme' });
        const operator = await h.listen();
        await h.call('PATCH', '/jobs/backup', { body: { description: 'nightly dump' } });
        await h.call('POST', '/jobs/acme-sync/trigger', { tenant: 'acme' });
        await h.call('POST', '/run-due');
        for (const stream of [acme, operator])
          await stream.until(() => stream.events.some((event) => event.event === 'run:succeeded'));
        const text = JSON.stringify(acme.events);
        expect(text).not.toContain('s3cret');
        expect(text).not.toContain('upstream answered 503');
        expect(text).not.toContain(h.scheduler.instanceId);
        const changed = acme.events.find((event) => event.event === 'job:changed');
        expect(changed?.data).toMatchObject({ change: 'updated', name: 'backup', tenantId: null });
        expect(changed?.data.job).toMatchObject({ description: 'nightly dump', params: {}, lastError: null });
        expect(changed?.data.origin).toBeUndefined();
        const done = acme.events.find((event) => event.event === 'run:succeeded');
        expect(done?.data.run).toMatchObject({ jobName: 'acme-sync', workerId: null });
        // Operators keep the instance that made each change.
        const seen = operator.events.find((event) => event.event === 'run:succeeded');
        expect(seen?.data).toMatchObject({
          origin: h.scheduler.instanceId,
          run: { workerId: h.scheduler.instanceId },
        });
        expect(JSON.stringify(operator.events)).toContain('s3cret');
        await acme.close();
        await operator.close();
      },
    },
    {
      name: "keeps the instance id out of a tenant's errors and runs",
      options: { rateLimits: false },
      async run(h) {
        await h.store.insertJob(
          newJob({
            name: 'orphan',
            tenantId: 'acme',
            nextRunAt: h.clock.now(),
            tasks: [{ executor: 'retired', enabled: true, params: {} }],
          }),
        );
        const refused = await h.call('POST', '/jobs/orphan/trigger', { tenant: 'acme' });
        expect(refused.status).toBe(400);
        expect(refused.json.error.message).toMatch(/"retired" is not registered/);
        await h.call('POST', '/run-due');
        const runs = await h.call('GET', '/runs', { tenant: 'acme' });
        expect(runs.json.data.items[0]).toMatchObject({
          workerId: null,
          error: { code: 'unknown_executor' },
        });
        for (const answer of [refused, runs]) {
          expect(answer.text).not.toContain(h.scheduler.instanceId);
          expect(answer.text).not.toMatch(/instance [^t]/);
        }
        const operator = await h.call('GET', '/runs?tenantId=acme');
        expect(operator.json.data.items[0].workerId).toBe(h.scheduler.instanceId);
      },
    },
    {
      name: 'refuses a flood of near-term one-offs after a 429, and still takes far ones',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('acme-sync', { tenantId: 'acme', overlap: 'allow' }) });
        expect((await h.call('POST', '/jobs/acme-sync/trigger', { tenant: 'acme' })).status).toBe(202);
        expect((await h.call('POST', '/jobs/acme-sync/trigger', { tenant: 'acme' })).status).toBe(429);
        for (let i = 0; i < 25; i++) {
          const flood = await h.call('POST', '/scheduled', {
            body: { job: 'acme-sync', at: inMs(h, 1_500) },
            tenant: 'acme',
          });
          expect(flood.status).toBe(429);
          expect(flood.json.error.code).toBe('RATE_LIMITED');
        }
        const far = await h.call('POST', '/scheduled', {
          body: { job: 'acme-sync', at: inMs(h, 3_600_000) },
          tenant: 'acme',
        });
        expect(far.status).toBe(201);
        expect((await h.call('GET', '/scheduled', { tenant: 'acme' })).json.data.items).toHaveLength(1);
      },
    },
    {
      name: 'near-term one-offs spend the total like triggers, per tenant',
      options: { rateLimits: { perJob: false, total: { limit: 3, window: '1m' } } },
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('acme-sync', { tenantId: 'acme' }) });
        for (let i = 0; i < 3; i++) {
          const answer = await h.call('POST', '/scheduled', {
            body: { job: 'acme-sync', at: inMs(h, 10_000 + i) },
            tenant: 'acme',
          });
          expect(answer.status).toBe(201);
        }
        const over = await h.call('POST', '/scheduled', {
          body: { job: 'acme-sync', at: inMs(h, 20_000) },
          tenant: 'acme',
        });
        expect(over.status).toBe(429);
        expect(Number(over.headers.get('retry-after'))).toBe(60);
        // Due after the window: not a trigger by another name.
        expect(
          (
            await h.call('POST', '/scheduled', {
              body: { job: 'acme-sync', at: inMs(h, 61_000) },
              tenant: 'acme',
            })
          ).status,
        ).toBe(201);
      },
    },
    {
      name: 'caps the pending one-offs of a job (409) whatever their due time',
      options: { rateLimits: false },
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('acme-sync', { tenantId: 'acme' }) });
        for (let i = 0; i < 100; i++) {
          const answer = await h.call('POST', '/scheduled', {
            body: { job: 'acme-sync', at: inMs(h, 3_600_000 + i) },
            tenant: 'acme',
          });
          expect(answer.status).toBe(201);
        }
        const over = await h.call('POST', '/scheduled', {
          body: { job: 'acme-sync', at: inMs(h, 7_200_000) },
          tenant: 'acme',
        });
        expect(over.status).toBe(409);
        expect(over.json.error.message).toMatch(/already has 100 pending runs/);
      },
    },
    {
      name: "a 429 from the total does not spend the job's own slot, nor a 429 from the slot the total",
      options: { rateLimits: { perJob: { limit: 1, window: '10m' }, total: { limit: 2, window: '1m' } } },
      async run(h) {
        for (const name of ['a', 'b', 'c', 'd'])
          await h.call('POST', '/jobs', { body: { ...syncJob(name), overlap: 'allow' } });
        expect((await h.call('POST', '/jobs/a/trigger')).status).toBe(202);
        for (let i = 0; i < 5; i++) expect((await h.call('POST', '/jobs/a/trigger')).status).toBe(429);
        expect((await h.call('POST', '/jobs/b/trigger')).status).toBe(202);
        const overTotal = await h.call('POST', '/jobs/c/trigger');
        expect(overTotal.status).toBe(429);
        expect(overTotal.json.error.message).toMatch(/too many manual triggers/);
        h.clock.advance('61s');
        // c's slot (10 min) was not spent by the refusal, so c runs as soon as the total has room.
        expect((await h.call('POST', '/jobs/c/trigger')).status).toBe(202);
        expect((await h.call('POST', '/jobs/d/trigger')).status).toBe(202);
      },
    },
    {
      name: "gives each tenant its own total, so one tenant cannot block another's Run now",
      options: { rateLimits: { perJob: false, total: { limit: 2, window: '1m' } } },
      async run(h) {
        for (const tenantId of ['acme', 'globex', null])
          await h.call('POST', '/jobs', {
            body: { ...syncJob(`job-${tenantId ?? 'global'}`), overlap: 'allow' },
            ...(tenantId ? { tenant: tenantId } : {}),
          });
        for (let i = 0; i < 2; i++)
          expect((await h.call('POST', '/jobs/job-acme/trigger', { tenant: 'acme' })).status).toBe(202);
        expect((await h.call('POST', '/jobs/job-acme/trigger', { tenant: 'acme' })).status).toBe(429);
        expect((await h.call('POST', '/executors/sync/trigger', { tenant: 'acme' })).status).toBe(429);
        expect((await h.call('POST', '/jobs/job-globex/trigger', { tenant: 'globex' })).status).toBe(202);
        expect((await h.call('POST', '/jobs/job-global/trigger')).status).toBe(202);
      },
    },
    {
      name: 'keys its windows unambiguously, and on the job id so a rename keeps the slot',
      options: { rateLimits: { perJob: { limit: 1, window: '30s' }, total: false } },
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('y'), tenant: 'A:x' });
        await h.call('POST', '/jobs', { body: syncJob('x:y'), tenant: 'A' });
        expect((await h.call('POST', '/jobs/y/trigger', { tenant: 'A:x' })).status).toBe(202);
        expect((await h.call('POST', '/jobs/x:y/trigger', { tenant: 'A' })).status).toBe(202);
        await h.call('POST', '/run-due');
        expect((await h.call('PATCH', '/jobs/y', { body: { name: 'renamed' }, tenant: 'A:x' })).status).toBe(
          200,
        );
        const again = await h.call('POST', '/jobs/renamed/trigger', { tenant: 'A:x' });
        expect(again.status).toBe(429);
        expect(again.json.error.message).toMatch(/job "renamed"/);
      },
    },
  ],
};
