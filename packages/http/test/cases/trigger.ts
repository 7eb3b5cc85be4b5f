import { memoryStore } from '@cronkeeper/adapter-memory';
import { manualClock } from '@cronkeeper/core/testing';
import { expect } from 'vitest';
import { syncJob, waitFor } from '../support/harness.js';
import type { Suite } from './table.js';

export const triggerSuite: Suite = {
  name: 'manual triggers and rate limits',
  cases: [
    {
      name: 'answers 202 with the pending run, recording who triggered it and the params',
      async run(h) {
        await h.call('POST', '/jobs', { body: syncJob('morning-sync-3am') });
        const answer = await h.call('POST', '/jobs/morning-sync-3am/trigger', {
          body: { params: { batchSize: 5 } },
          user: 'dana',
        });
        expect(answer.status).toBe(202);
        expect(answer.json.data).toMatchObject({
          status: 'pending',
          trigger: 'manual',
          triggeredBy: 'dana',
          jobName: 'morning-sync-3am',
          params: { batchSize: 5 },
        });
        const done = await h.call('POST', '/run-due');
        expect(done.json.data.executed[0]).toMatchObject({ id: answer.json.data.id, result: { synced: 5 } });
      },
    },
    {
      name: 'answers 409 with runningRunId while a run is due or running, saying which, and the 409 spends no rate limit',
      options: { rateLimits: { perJob: { limit: 1, window: '30s' }, total: { limit: 2, window: '1m' } } },
      async run(h) {
        await h.call('POST', '/jobs', { body: { name: 'long', schedule: 'daily', executor: 'slow' } });
        await h.call('POST', '/jobs', { body: syncJob('other') });
        const first = await h.call('POST', '/jobs/long/trigger');
        expect(first.status).toBe(202);
        const pending = await h.call('POST', '/jobs/long/trigger');
        expect(pending.status).toBe(409);
        expect(pending.json.error.message).toBe(
          `"long" already has a run due (run ${first.json.data.id}); wait for it to run or pass force: true`,
        );
        const due = h.scheduler.runDue();
        await waitFor(
          async () => (await h.scheduler.runs.get(first.json.data.id)).status === 'running',
          'running',
        );
        for (let i = 0; i < 3; i++) {
          const again = await h.call('POST', '/jobs/long/trigger');
          expect(again.status).toBe(409);
          expect(again.json.error).toMatchObject({
            code: 'CONFLICT',
            message: `"long" is already running (run ${first.json.data.id}); wait for it to finish or pass force: true`,
            details: { runningRunId: first.json.data.id },
          });
        }
        // The total budget (2) still has room: the three 409s were not counted.
        expect((await h.call('POST', '/jobs/other/trigger')).status).toBe(202);
        h.gate.release();
        await due;
        // The per-job limit still applies to a forced trigger.
        expect((await h.call('POST', '/jobs/other/trigger', { body: { force: true } })).status).toBe(429);
      },
    },
    {
      name: 'limits one trigger per job per 30 s (429 + Retry-After) and ten in all per minute',
      async run(h) {
        for (const name of 'abcdefghijk'.split('')) await h.call('POST', '/jobs', { body: syncJob(name) });
        expect((await h.call('POST', '/jobs/a/trigger')).status).toBe(202);
        await h.call('POST', '/run-due');
        const tooSoon = await h.call('POST', '/jobs/a/trigger');
        expect(tooSoon.status).toBe(429);
        expect(tooSoon.json.error.code).toBe('RATE_LIMITED');
        expect(tooSoon.headers.get('retry-after')).toBe('30');
        h.clock.advance('31s');
        expect((await h.call('POST', '/jobs/a/trigger')).status).toBe(202);
        for (const name of 'bcdefghi'.split(''))
          expect((await h.call('POST', `/jobs/${name}/trigger`)).status).toBe(202);
        const overTotal = await h.call('POST', '/jobs/j/trigger');
        expect(overTotal.status).toBe(429);
        expect(overTotal.json.error.message).toMatch(/too many manual triggers/);
        expect(Number(overTotal.headers.get('retry-after'))).toBeGreaterThan(0);
      },
    },
    {
      name: 'rateLimits: false turns the limits off',
      options: { rateLimits: false },
      async run(h) {
        await h.call('POST', '/jobs', { body: { ...syncJob('a'), overlap: 'allow' } });
        for (let i = 0; i < 12; i++) expect((await h.call('POST', '/jobs/a/trigger')).status).toBe(202);
      },
    },
    {
      name: 'limits hold across instances sharing a store',
      async run(_h, target) {
        const store = memoryStore();
        const clock = manualClock('2026-03-29T10:00:00Z');
        const one = await target.start({}, { store, clock });
        const two = await target.start({}, { store, clock });
        await one.call('POST', '/jobs', { body: syncJob('a') });
        expect((await one.call('POST', '/jobs/a/trigger')).status).toBe(202);
        await one.call('POST', '/run-due');
        expect((await two.call('POST', '/jobs/a/trigger')).status).toBe(429);
      },
    },
    {
      name: '404 for an unknown job',
      async run(h) {
        expect((await h.call('POST', '/jobs/ghost/trigger')).status).toBe(404);
      },
    },
    {
      name: 'runs an executor alone (202), validates params against its schema, 404 when unregistered',
      async run(h) {
        const bad = await h.call('POST', '/executors/sync/trigger', { body: { params: { batchSize: 500 } } });
        expect(bad.status).toBe(400);
        expect(bad.json.error.message).toMatch(/batchSize/);
        // The invalid request spent nothing: the next one is accepted.
        const ok = await h.call('POST', '/executors/sync/trigger', { body: { params: { batchSize: 7 } } });
        expect(ok.status).toBe(202);
        expect(ok.json.data).toMatchObject({ executor: 'sync', jobId: null, trigger: 'manual' });
        expect((await h.call('POST', '/executors/sync/trigger')).status).toBe(409);
        expect((await h.call('POST', '/executors/nope/trigger')).status).toBe(404);
      },
    },
  ],
};
