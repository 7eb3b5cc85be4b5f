import { memoryStore } from '@cronkeeper/adapter-memory';
import { manualClock } from '@cronkeeper/core/testing';
import { expect } from 'vitest';
import { syncJob, waitFor } from '../support/harness.js';
import type { Suite } from './table.js';

export const eventSuite: Suite = {
  name: 'GET /events',
  cases: [
    {
      name: 'streams run and job changes as named server-sent events, with heartbeats',
      options: { events: { heartbeat: 50 }, rateLimits: false },
      async run(h) {
        const stream = await h.listen();
        expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
        await h.call('POST', '/jobs', { body: syncJob('a') });
        await h.call('POST', '/jobs/a/trigger');
        await h.call('POST', '/run-due');
        await stream.until(() => stream.events.some((e) => e.event === 'run:succeeded'));
        expect(stream.events.map((e) => e.event)).toEqual([
          'job:changed',
          'run:created',
          'run:started',
          'run:succeeded',
        ]);
        expect(stream.events[0]?.data).toMatchObject({ change: 'created', name: 'a' });
        expect(stream.events[3]?.data.run).toMatchObject({ jobName: 'a', status: 'succeeded' });
        await stream.until(() => stream.comments.some((line) => line.startsWith(': heartbeat')));
        await stream.close();
      },
    },
    {
      name: 'filters by tenant: a tenant sees its runs and visible jobs only',
      options: { rateLimits: false },
      async run(h) {
        const acme = await h.listen({ 'x-tenant': 'acme' });
        await h.call('POST', '/jobs', { body: syncJob('globex-job', { tenantId: 'globex' }) });
        await h.call('POST', '/jobs/globex-job/trigger', { tenant: 'globex' });
        await h.call('POST', '/jobs', { body: syncJob('acme-job', { tenantId: 'acme' }) });
        await h.call('POST', '/jobs/acme-job/trigger', { tenant: 'acme' });
        await acme.until(() => acme.events.some((e) => e.event === 'run:created'));
        expect(acme.events.map((e) => e.data.name ?? e.data.run.jobName)).toEqual(['acme-job', 'acme-job']);
        await acme.close();
      },
    },
    {
      name: 'removes its listeners when the client goes away',
      async run(h) {
        const stream = await h.listen();
        await waitFor(() => h.listeners() === 7, 'listening');
        await stream.close();
        await waitFor(() => h.listeners() === 0, 'listeners removed');
      },
    },
    {
      name: 'delivers runs created by another instance sharing the store',
      async run(_h, target) {
        const store = memoryStore();
        const clock = manualClock('2026-03-29T10:00:00Z');
        const here = await target.start({}, { store, clock, start: true });
        const elsewhere = await target.start({}, { store, clock });
        const stream = await here.listen();
        await elsewhere.scheduler.jobs.create(syncJob('remote'));
        const run = await elsewhere.scheduler.trigger({ job: 'remote', triggeredBy: 'other-instance' });
        await stream.until(() =>
          stream.events.some((e) => e.event === 'run:created' && e.data.run.id === run.id),
        );
        const created = stream.events.find((e) => e.event === 'run:created');
        expect(created?.data.origin).toBe(elsewhere.scheduler.instanceId);
        await stream.close();
      },
    },
  ],
};
