import type { Store } from '@cronkeeper/core';
import { expect } from 'vitest';
import type { CronAction } from '../../src/index.js';
import { syncJob } from '../support/harness.js';
import type { Suite } from './table.js';

export const operationsSuite: Suite = {
  name: 'operations: audit, preview, backfill, health, metrics',
  options: { rateLimits: false },
  cases: [
    {
      name: 'GET /audit lists changes and triggers newest first, with the actor of each request',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('nightly'), user: 'bob' });
        h.clock.advance('1m');
        await h.call('POST', '/jobs/nightly/pause', { body: { note: 'holidays' }, user: 'carol' });
        h.clock.advance('1m');
        await h.call('POST', '/jobs/nightly/trigger', { body: {}, user: 'dave' });
        const answer = await h.call('GET', '/audit?job=nightly');
        expect(answer.status).toBe(200);
        expect(answer.json.data.nextCursor).toBeNull();
        expect(
          answer.json.data.items.map((entry: { action: string; actor: string }) => [
            entry.action,
            entry.actor,
          ]),
        ).toEqual([
          ['triggered', 'dave'],
          ['paused', 'carol'],
          ['created', 'bob'],
        ]);
        expect(answer.json.data.items[1]).toMatchObject({
          at: '2026-03-29T10:01:00.000Z',
          before: { enabled: true, pausedNote: null },
          after: { enabled: false, pausedNote: 'holidays' },
          note: 'holidays',
        });
        const page = await h.call('GET', '/audit?limit=1');
        const next = await h.call('GET', `/audit?limit=1&cursor=${page.json.data.nextCursor}`);
        expect(next.json.data.items[0].action).toBe('paused');
        expect((await h.call('GET', '/audit?limit=0')).status).toBe(400);
        expect((await h.call('GET', '/audit?cursor=not%20ours')).status).toBe(400);
      },
    },
    {
      name: 'GET /audit confines a tenant to its own entries',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('shared') });
        await h.call('POST', '/jobs', { body: syncJob('acme-sync'), tenant: 'acme' });
        await h.call('POST', '/jobs', { body: syncJob('globex-sync'), tenant: 'globex' });
        const jobs = (answer: { json: { data: { items: Array<{ job: string }> } } }) =>
          answer.json.data.items.map((entry) => entry.job);
        expect(jobs(await h.call('GET', '/audit', { tenant: 'acme' }))).toEqual(['acme-sync']);
        expect((await h.call('GET', '/audit?tenantId=globex', { tenant: 'acme' })).status).toBe(403);
        expect((await h.call('GET', '/audit?tenantId=', { tenant: 'acme' })).status).toBe(403);
        expect(jobs(await h.call('GET', '/audit?tenantId=globex'))).toEqual(['globex-sync']);
        expect(jobs(await h.call('GET', '/audit'))).toHaveLength(3);
      },
    },
    {
      name: 'POST /jobs/preview answers the next instants and the description; a bad schedule is a 400 naming it',
      async run(h) {
        const answer = await h.call('POST', '/jobs/preview', {
          body: { schedule: '0 3 * * *', timezone: 'Europe/Paris', count: 2 },
        });
        expect(answer.status).toBe(200);
        expect(answer.json.data).toEqual({
          next: ['2026-03-30T01:00:00.000Z', '2026-03-31T01:00:00.000Z'],
          description: expect.stringMatching(/03:00/),
          horizon: expect.stringMatching(/^2036-/),
        });
        const bad = await h.call('POST', '/jobs/preview', { body: { schedule: 'every tuesday' } });
        expect(bad.status).toBe(400);
        expect(bad.json.error.code).toBe('VALIDATION');
        expect(bad.json.error.message).toMatch(/schedule/);
        expect(
          (await h.call('POST', '/jobs/preview', { body: { schedule: 'daily', count: 500 } })).status,
        ).toBe(400);
        expect(
          (await h.call('POST', '/jobs/preview', { body: { schedule: 'daily', zone: 'UTC' } })).status,
        ).toBe(400);
        expect(
          (await h.call('POST', '/jobs/preview', { body: { schedule: 'daily' }, role: 'viewer' })).status,
        ).toBe(200);
      },
    },
    {
      name: 'POST /jobs/:name/backfill creates one run per missing slot, by the caller, and skips the rest',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('hourly', { schedule: '0 * * * *' }) });
        const range = { from: '2026-03-29T06:00:00Z', to: '2026-03-29T09:00:00Z' };
        const first = await h.call('POST', '/jobs/hourly/backfill', { body: range, user: 'erin' });
        expect(first.status).toBe(200);
        expect(first.json.data.skipped).toBe(0);
        expect(
          first.json.data.created.map(
            (run: { scheduledFor: string; trigger: string; triggeredBy: string }) => [
              run.scheduledFor,
              run.trigger,
              run.triggeredBy,
            ],
          ),
        ).toEqual([
          ['2026-03-29T06:00:00.000Z', 'backfill', 'erin'],
          ['2026-03-29T07:00:00.000Z', 'backfill', 'erin'],
          ['2026-03-29T08:00:00.000Z', 'backfill', 'erin'],
        ]);
        const again = await h.call('POST', '/jobs/hourly/backfill', { body: range });
        expect(again.json.data).toEqual({ created: [], skipped: 3 });
        const tooMany = await h.call('POST', '/jobs/hourly/backfill', { body: { ...range, limit: 2 } });
        expect(tooMany.status).toBe(400);
        expect(tooMany.json.error.message).toMatch(/limit/);
        const future = await h.call('POST', '/jobs/hourly/backfill', {
          body: { from: range.from, to: '2026-03-30T00:00:00Z' },
        });
        expect(future.status).toBe(400);
        expect((await h.call('POST', '/jobs/nope/backfill', { body: range })).status).toBe(404);
        expect((await h.call('POST', '/jobs/hourly/backfill', { body: { from: range.from } })).status).toBe(
          400,
        );
        expect((await h.call('GET', '/runs?trigger=backfill')).json.data.items).toHaveLength(3);
      },
    },
    {
      name: 'POST /jobs/:name/backfill: a tenant backfills its own jobs, never a global or another tenant’s',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('shared', { schedule: '0 * * * *' }) });
        await h.call('POST', '/jobs', { body: syncJob('mine', { schedule: '0 * * * *' }), tenant: 'acme' });
        const range = { from: '2026-03-29T08:00:00Z', to: '2026-03-29T09:00:00Z' };
        const own = await h.call('POST', '/jobs/mine/backfill', { body: range, tenant: 'acme' });
        expect(own.json.data.created[0].tenantId).toBe('acme');
        expect((await h.call('POST', '/jobs/shared/backfill', { body: range, tenant: 'acme' })).status).toBe(
          403,
        );
        expect((await h.call('POST', '/jobs/mine/backfill', { body: range, tenant: 'globex' })).status).toBe(
          404,
        );
      },
    },
    {
      name: 'POST /maintenance/prune by a tenant prunes its runs but never its audit trail; an operator prunes both',
      async run(h) {
        await h.call('POST', '/jobs', {
          body: syncJob('payroll', { schedule: '0 * * * *' }),
          tenant: 'acme',
        });
        await h.call('PATCH', '/jobs/payroll', { body: { description: 'changed' }, tenant: 'acme' });
        expect((await h.call('POST', '/jobs/payroll/trigger', { body: {}, tenant: 'acme' })).status).toBe(
          202,
        );
        await h.scheduler.runDue();
        h.clock.advance('1h');
        const entries = async () => (await h.call('GET', '/audit?tenantId=acme')).json.data.items.length;
        const before = await entries();
        expect(before).toBeGreaterThanOrEqual(3);
        const tenantPrune = await h.call('POST', '/maintenance/prune', {
          body: { olderThan: 1 },
          tenant: 'acme',
        });
        expect(tenantPrune.status).toBe(200);
        expect(tenantPrune.json.data).toMatchObject({ deleted: 1, auditDeleted: 0 });
        expect(await entries()).toBe(before);
        const operatorPrune = await h.call('POST', '/maintenance/prune', { body: { olderThan: 1 } });
        expect(operatorPrune.json.data.auditDeleted).toBe(before);
        expect(await entries()).toBe(0);
      },
    },
    {
      name: 'GET /health answers 200 when ok and 503 with the report when the store fails',
      async run(h) {
        const ok = await h.call('GET', '/health');
        expect(ok.status).toBe(200);
        expect(ok.json.data).toMatchObject({ ok: true, store: { reachable: true }, stuckRuns: 0 });
        (h.store as Store).findDueJobs = async () => {
          throw new Error('connect ECONNREFUSED db.internal:5432 as user "cron_admin"');
        };
        const down = await h.call('GET', '/health');
        expect(down.status).toBe(503);
        expect(down.json.data).toMatchObject({
          ok: false,
          store: { reachable: false, error: expect.stringMatching(/store did not answer/) },
        });
        // The driver's message (host, user) is not told to a probe, which may be anonymous.
        expect(down.text).not.toMatch(/ECONNREFUSED|db\.internal|cron_admin/);
        expect((await h.call('GET', '/health?maxLag=soon')).status).toBe(400);
      },
    },
    {
      name: "GET /health is an operator's: a tenant gets 403, since lag and stuck runs count every tenant's",
      async run(h) {
        const tenant = await h.call('GET', '/health', { tenant: 'acme' });
        expect(tenant.status).toBe(403);
        expect(tenant.json.error.code).toBe('FORBIDDEN');
        expect(tenant.text).not.toContain('stuckRuns');
        expect((await h.call('GET', '/health')).status).toBe(200);
      },
    },
    {
      name: 'GET /health with maxLag is 503 once a slot is overdue by more than that',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('hourly', { schedule: '0 * * * *' }) });
        h.clock.advance('70m');
        expect((await h.call('GET', '/health')).status).toBe(200);
        const late = await h.call('GET', '/health?maxLag=5m');
        expect(late.status).toBe(503);
        expect(late.json.data.oldestDueLagMs).toBe(10 * 60_000);
      },
    },
    {
      name: 'GET /metrics answers Prometheus text to operators, 403 to a tenant',
      async run(h) {
        await h.call('POST', '/jobs/sync/trigger', { body: {} }).catch(() => {});
        await h.call('POST', '/executors/sync/trigger', { body: {} });
        await h.scheduler.runDue();
        const answer = await h.send('/metrics', { headers: { 'x-user': 'alice' } });
        expect(answer.status).toBe(200);
        expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
        const text = await answer.text();
        expect(text).toContain(
          'cronkeeper_runs_total{job="",executor="sync",trigger="manual",outcome="succeeded"} 1',
        );
        expect(text).toContain('# TYPE cronkeeper_queue_depth gauge');
        const tenant = await h.call('GET', '/metrics', { tenant: 'acme' });
        expect(tenant.status).toBe(403);
      },
    },
    {
      name: 'passes each operation route its own action',
      async run(_h, target) {
        const seen: CronAction[] = [];
        const other = await target.start({
          authorize: (_req, action) => {
            seen.push(action);
            return action !== 'metrics:read';
          },
        });
        await other.call('GET', '/audit');
        await other.call('POST', '/jobs/preview', { body: { schedule: 'daily' } });
        await other.call('POST', '/jobs/x/backfill', {
          body: { from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z' },
        });
        await other.call('GET', '/health');
        expect((await other.call('GET', '/metrics')).status).toBe(403);
        expect(seen).toEqual(['audit:read', 'jobs:read', 'jobs:backfill', 'health:read', 'metrics:read']);
      },
    },
    {
      name: 'the OpenAPI document describes the operation routes',
      async run(h) {
        const doc = (await h.call('GET', '/openapi.json')).json;
        expect(doc.paths['/audit'].get.responses['200']).toBeDefined();
        expect(
          doc.paths['/jobs/preview'].post.requestBody.content['application/json'].schema.required,
        ).toEqual(['schedule']);
        expect(
          doc.paths['/jobs/{name}/backfill'].post.requestBody.content['application/json'].schema.required,
        ).toEqual(['from', 'to']);
        expect(
          doc.paths['/health'].get.responses['200'].content['application/json'].schema.properties.data
            .properties.ok,
        ).toBeDefined();
        expect(Object.keys(doc.paths['/metrics'].get.responses['200'].content)[0]).toMatch(/^text\/plain/);
      },
    },
  ],
};

/** Backfill under the default rate limits: runs on demand are counted as manual triggers are. */
export const backfillLimitsSuite: Suite = {
  name: 'operations: backfill under rate limits',
  options: { rateLimits: { perJob: { limit: 1, window: '30s' }, total: { limit: 2, window: '1m' } } },
  cases: [
    {
      name: "a backfill counts on the job's window and the tenant's total, like a trigger (429 beyond)",
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('hourly', { schedule: '0 * * * *' }), tenant: 'acme' });
        await h.call('POST', '/jobs', { body: syncJob('daily', { schedule: '0 0 * * *' }), tenant: 'acme' });
        const range = { from: '2026-03-29T06:00:00Z', to: '2026-03-29T08:00:00Z' };
        const first = await h.call('POST', '/jobs/hourly/backfill', { body: range, tenant: 'acme' });
        expect(first.status).toBe(200);
        expect(first.json.data.created).toHaveLength(2);
        const again = await h.call('POST', '/jobs/hourly/backfill', {
          body: { from: '2026-03-29T00:00:00Z', to: '2026-03-29T06:00:00Z' },
          tenant: 'acme',
        });
        expect(again.status).toBe(429);
        expect(again.headers.get('retry-after')).not.toBeNull();
        // Refused before anything was created.
        expect(
          (await h.call('GET', '/runs?trigger=backfill', { tenant: 'acme' })).json.data.items,
        ).toHaveLength(2);
        // The tenant's total: a trigger of another job spends the last of it, then a backfill is refused.
        expect((await h.call('POST', '/jobs/daily/trigger', { body: {}, tenant: 'acme' })).status).toBe(202);
        h.clock.advance('31s');
        const overTotal = await h.call('POST', '/jobs/hourly/backfill', {
          body: { from: '2026-03-29T00:00:00Z', to: '2026-03-29T06:00:00Z' },
          tenant: 'acme',
        });
        expect(overTotal.status).toBe(429);
        // Another tenant's budget is its own.
        await h.call('POST', '/jobs', {
          body: syncJob('hourly', { schedule: '0 * * * *' }),
          tenant: 'globex',
        });
        expect(
          (await h.call('POST', '/jobs/hourly/backfill', { body: range, tenant: 'globex' })).status,
        ).toBe(200);
      },
    },
    {
      name: 'a refused backfill (too many slots, a future end, a year too far back) spends no budget',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('hourly', { schedule: '0 * * * *' }), tenant: 'acme' });
        for (const body of [
          { from: '2026-03-20T00:00:00Z', to: '2026-03-29T00:00:00Z' },
          { from: '2026-03-29T00:00:00Z', to: '2027-01-01T00:00:00Z' },
          { from: '2020-01-01T00:00:00Z', to: '2020-01-01T03:00:00Z' },
        ]) {
          const refused = await h.call('POST', '/jobs/hourly/backfill', { body, tenant: 'acme' });
          expect(refused.status).toBe(400);
        }
        const good = await h.call('POST', '/jobs/hourly/backfill', {
          body: { from: '2026-03-29T04:00:00Z', to: '2026-03-29T06:00:00Z' },
          tenant: 'acme',
        });
        expect(good.status).toBe(200);
        expect(good.json.data.created).toHaveLength(2);
      },
    },
  ],
};
