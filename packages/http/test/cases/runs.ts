import { expect } from 'vitest';
import { syncJob, waitFor } from '../support/harness.js';
import type { Suite } from './table.js';

export const runSuite: Suite = {
  name: 'runs, one-off runs, heartbeat and reports',
  options: { rateLimits: false },
  cases: [
    {
      name: 'lists history newest first with filters, and pages with a cursor',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('a', { overlap: 'allow' }) });
        await h.call('POST', '/jobs', { body: { name: 'b', schedule: 'daily', executor: 'broken' } });
        for (let i = 0; i < 3; i++) {
          await h.call('POST', '/jobs/a/trigger');
          h.clock.advance('1s');
        }
        await h.call('POST', '/jobs/b/trigger');
        await h.call('POST', '/run-due');
        const failed = await h.call('GET', '/runs?status=failed');
        expect(failed.json.data.items.map((run: { jobName: string }) => run.jobName)).toEqual(['b']);
        const ofA = await h.call('GET', '/runs?job=a&trigger=manual&status=succeeded,failed');
        expect(ofA.json.data.items).toHaveLength(3);
        const page1 = await h.call('GET', '/runs?limit=2');
        expect(page1.json.data.items).toHaveLength(2);
        const page2 = await h.call('GET', `/runs?limit=2&cursor=${page1.json.data.nextCursor}`);
        expect(page2.json.data.items).toHaveLength(2);
        expect(page2.json.data.nextCursor).toBeNull();
        const ids = [...page1.json.data.items, ...page2.json.data.items].map((run: { id: string }) => run.id);
        expect(new Set(ids).size).toBe(4);
        const since = await h.call('GET', `/runs?since=${encodeURIComponent('2026-03-29T10:00:02.000Z')}`);
        expect(since.json.data.items).toHaveLength(2);
      },
    },
    {
      name: 'GET /runs/:id returns one run with its logs; 404 for an unknown id',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('a') });
        const run = (await h.call('POST', '/jobs/a/trigger')).json.data;
        await h.call('POST', '/run-due');
        const one = await h.call('GET', `/runs/${run.id}`);
        expect(one.json.data).toMatchObject({ id: run.id, status: 'succeeded', logs: [] });
        expect((await h.call('GET', '/runs/00000000-0000-0000-0000-000000000000')).status).toBe(404);
      },
    },
    {
      name: 'cancels a pending run, then answers 409 because it already ended',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('a') });
        const run = (await h.call('POST', '/jobs/a/trigger')).json.data;
        const cancelled = await h.call('POST', `/runs/${run.id}/cancel`, { user: 'erin' });
        expect(cancelled.json.data).toMatchObject({ status: 'cancelled' });
        expect((await h.call('POST', `/runs/${run.id}/cancel`)).status).toBe(409);
      },
    },
    {
      name: 'schedules a one-off in the future with params, lists by status, and cancels with DELETE',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('monitor-openai') });
        const at = '2026-03-29T15:30:00.000Z';
        const created = await h.call('POST', '/scheduled', {
          body: { job: 'monitor-openai', at, params: { batchSize: 5 } },
          user: 'admin',
        });
        expect(created.status).toBe(201);
        expect(created.json.data).toMatchObject({
          trigger: 'once',
          status: 'pending',
          runAt: at,
          triggeredBy: 'admin',
        });
        const pending = await h.call('GET', '/scheduled?status=pending');
        expect(pending.json.data.items.map((run: { id: string }) => run.id)).toEqual([created.json.data.id]);
        const deleted = await h.call('DELETE', `/scheduled/${created.json.data.id}`);
        expect(deleted.json.data.status).toBe('cancelled');
        expect((await h.call('GET', '/scheduled?status=pending')).json.data.items).toEqual([]);
        expect((await h.call('GET', '/scheduled?status=cancelled')).json.data.items).toHaveLength(1);
      },
    },
    {
      name: 'refuses a one-off in the past, naming `at`, and runs it when it comes due',
      async run(h) {
        const past = await h.call('POST', '/scheduled', {
          body: { executor: 'sync', at: '2026-03-29T09:00:00Z' },
        });
        expect(past.status).toBe(400);
        expect(past.json.error.details.issues[0].path).toBe('at');
        const later = await h.call('POST', '/scheduled', {
          body: { executor: 'sync', at: '2026-03-29T11:00:00Z' },
        });
        expect((await h.call('POST', '/run-due')).json.data.summary.total).toBe(0);
        h.clock.advance('1h');
        const due = await h.call('POST', '/run-due');
        expect(due.json.data.executed.map((run: { id: string }) => run.id)).toEqual([later.json.data.id]);
      },
    },
    {
      name: 'DELETE /scheduled/:id is 404 for a run that is not a one-off',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('a') });
        const manual = (await h.call('POST', '/jobs/a/trigger')).json.data;
        expect((await h.call('DELETE', `/scheduled/${manual.id}`)).status).toBe(404);
      },
    },
    {
      name: 'POST /run-due fires due slots and answers the summary',
      async run(h) {
        await h.call('POST', '/jobs', {
          body: { name: 'ok', schedule: 'every_5_minutes', executor: 'sync' },
        });
        await h.call('POST', '/jobs', {
          body: { name: 'ko', schedule: 'every_5_minutes', executor: 'broken' },
        });
        h.clock.advance('5m');
        const due = await h.call('POST', '/run-due', { body: { limit: 100 } });
        expect(due.json.data.summary).toEqual({ total: 2, executed: 1, skipped: 0, failed: 1 });
        expect(due.json.data.failed[0].error.message).toMatch(/upstream answered 503/);
      },
    },
    {
      name: 'cleanup-stale fails runs running longer than the threshold, prune removes old ones',
      async run(h) {
        await h.call('POST', '/jobs', { body: { name: 'long', schedule: 'daily', executor: 'slow' } });
        const run = (await h.call('POST', '/jobs/long/trigger')).json.data;
        const due = h.scheduler.runDue();
        await waitFor(async () => (await h.scheduler.runs.get(run.id)).status === 'running', 'running');
        h.clock.advance('4d');
        const swept = await h.call('POST', '/maintenance/cleanup-stale', { body: { olderThan: '3d' } });
        expect(swept.json.data).toMatchObject({ updated: 1, jobs: ['long'], executors: ['slow'] });
        expect(swept.json.data.threshold).toBe('2026-03-30T10:00:00.000Z');
        h.gate.release();
        await due;
        h.clock.advance('31d');
        const pruned = await h.call('POST', '/maintenance/prune', { body: { olderThan: '30d' } });
        expect(pruned.json.data.deleted).toBe(1);
      },
    },
    {
      name: 'GET /executors lists the registry with params as JSON Schema',
      async run(h) {
        const answer = await h.call('GET', '/executors');
        const sync = answer.json.data.find((executor: { name: string }) => executor.name === 'sync');
        expect(sync).toMatchObject({
          description: 'Synchronises invoices',
          estimatedDurationMs: 5000,
          builtIn: false,
        });
        expect(sync.paramsSchema.properties.batchSize).toMatchObject({ type: 'integer', maximum: 50 });
      },
    },
    {
      name: 'GET /dashboard and GET /stats give the per-job view, KPIs and the 7-day timeline',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('a', { description: 'Invoices' }) });
        await h.call('POST', '/jobs/a/trigger');
        await h.call('POST', '/run-due');
        const dashboard = await h.call('GET', '/dashboard?locale=fr');
        expect(dashboard.json.data.jobs[0]).toMatchObject({ name: 'a', status: 'succeeded', runCount: 1 });
        expect(dashboard.json.data.jobs[0].describe).toMatch(/03:00/);
        const stats = await h.call('GET', '/stats');
        expect(stats.json.data).toMatchObject({
          executions24h: 1,
          running: 0,
          failures24h: 0,
          successRate: 1,
        });
        expect(stats.json.data.timeline).toHaveLength(7);
        expect(stats.json.data.timeline[6]).toMatchObject({ date: '2026-03-29', succeeded: 1 });
      },
    },
  ],
};
