import { newJob } from '@cronkeeper/core/testing';
import { expect } from 'vitest';
import { syncJob } from '../support/harness.js';
import type { Suite } from './table.js';

/** The path of the first issue of a 400. */
const issuePath = (answer: { json: { error: { details?: { issues?: { path: string }[] } } } }) =>
  answer.json.error.details?.issues?.[0]?.path;

export const tenantLimitSuite: Suite = {
  name: 'tenant limits and bounded listings',
  cases: [
    {
      name: "refuses a tenant's every-second schedule and a huge retry count (400 naming the field); an operator's global job may",
      async run(h) {
        const hot = await h.call('POST', '/jobs', {
          body: syncJob('hot', { schedule: '* * * * * *' }),
          tenant: 'acme',
        });
        expect(hot.status).toBe(400);
        expect(issuePath(hot)).toBe('schedule');
        expect(hot.json.error.message).toMatch(/tenantLimits\.minInterval/);
        const retries = await h.call('POST', '/jobs', {
          body: syncJob('retries', { retry: { limit: 100 } }),
          tenant: 'acme',
        });
        expect(retries.status).toBe(400);
        expect(issuePath(retries)).toBe('retry.limit');
        await h.call('POST', '/jobs', { body: syncJob('calm'), tenant: 'acme' });
        const patched = await h.call('PATCH', '/jobs/calm', {
          body: { schedule: '@secondly' },
          tenant: 'acme',
        });
        expect(patched.status).toBe(400);
        expect(issuePath(patched)).toBe('schedule');
        expect((await h.call('GET', '/jobs', { tenant: 'acme' })).json.data).toHaveLength(1);
        const global = await h.call('POST', '/jobs', { body: syncJob('hot', { schedule: '* * * * * *' }) });
        expect(global.status).toBe(201);
      },
    },
    {
      name: 'pages GET /jobs by limit and cursor (X-Next-Cursor), every job once; a forged cursor is a 400',
      async run(h) {
        for (const name of ['e', 'a', 'd', 'c', 'b'])
          await h.call('POST', '/jobs', { body: syncJob(name), tenant: 'acme' });
        const seen: string[] = [];
        let query = '/jobs?limit=2';
        for (let page = 0; page < 5; page++) {
          const answer = await h.call('GET', query, { tenant: 'acme' });
          expect(answer.status).toBe(200);
          expect(answer.json.data.length).toBeLessThanOrEqual(2);
          seen.push(...answer.json.data.map((job: { name: string }) => job.name));
          const next = answer.headers.get('x-next-cursor');
          if (next === null) break;
          query = `/jobs?limit=2&cursor=${next}`;
        }
        expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
        const over = await h.call('GET', '/jobs?limit=501', { tenant: 'acme' });
        expect(over.status).toBe(400);
        const forged = await h.call('GET', '/jobs?cursor=bm9wZQ', { tenant: 'acme' });
        expect(forged.status).toBe(400);
        expect(issuePath(forged)).toBe('cursor');
      },
    },
    {
      name: 'the dashboard lists at most 500 jobs and says how many there are; GET /jobs answers 500 at most by default',
      async run(h) {
        for (let i = 0; i < 501; i++)
          await h.store.insertJob(newJob({ name: `job-${String(i).padStart(3, '0')}`, tenantId: 'acme' }));
        const dashboard = await h.call('GET', '/dashboard', { tenant: 'acme' });
        expect(dashboard.status).toBe(200);
        expect(dashboard.json.data.jobs).toHaveLength(500);
        expect(dashboard.json.data.jobsTotal).toBe(501);
        const first = await h.call('GET', '/jobs', { tenant: 'acme' });
        expect(first.json.data).toHaveLength(500);
        const next = first.headers.get('x-next-cursor');
        expect(next).toBeTruthy();
        const rest = await h.call('GET', `/jobs?cursor=${next}`, { tenant: 'acme' });
        expect(rest.json.data.map((job: { name: string }) => job.name)).toEqual(['job-500']);
        expect(rest.headers.get('x-next-cursor')).toBeNull();
      },
    },
    {
      name: 'refuses job names "." and ".." and control characters (400 naming name); a name with a slash is addressed percent-encoded',
      async run(h) {
        for (const name of ['.', '..', 'a\nb', 'tab\there']) {
          const answer = await h.call('POST', '/jobs', { body: syncJob(name) });
          expect(answer.status, name).toBe(400);
          expect(issuePath(answer)).toBe('name');
        }
        expect((await h.call('POST', '/jobs', { body: syncJob('reports/daily') })).status).toBe(201);
        const read = await h.call('GET', '/jobs/reports%2Fdaily');
        expect(read.status).toBe(200);
        expect(read.json.data.name).toBe('reports/daily');
        expect((await h.call('POST', '/jobs', { body: syncJob('..a') })).status).toBe(201);
        expect((await h.call('GET', '/jobs/..a')).status).toBe(200);
      },
    },
  ],
};
