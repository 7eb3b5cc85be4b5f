import type { AddressInfo } from 'node:net';
import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor } from '@cronkeeper/core';
import { manualClock } from '@cronkeeper/core/testing';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { allowAll, cronRouter } from '../src/index.js';

// The package README's "Testing" sample, kept word for word, with the answers its comments promise.
describe('README: Testing', () => {
  it('answers 202, 409 until the run has run, 429 with Retry-After: 30, then 202 once the clock moved', async () => {
    const executors = { x: defineExecutor({ run: () => 1 }) };
    const app = express();

    const clock = manualClock('2026-03-29T10:00:00Z');
    const scheduler = createScheduler({ store: memoryStore(), clock, logger: false, executors });
    await scheduler.jobs.create({ name: 'x', schedule: 'daily', executor: 'x' });
    app.use('/api/cron', cronRouter(scheduler, { authorize: allowAll, clock }));

    const server = app.listen(0);
    try {
      const { port } = server.address() as AddressInfo;
      const post = () =>
        fetch(`http://127.0.0.1:${port}/api/cron/jobs/x/trigger`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        });
      expect((await post()).status).toBe(202);
      expect((await post()).status).toBe(409);
      await scheduler.runDue();
      const limited = await post();
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('30');
      clock.advance('31s');
      expect((await post()).status).toBe(202);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
