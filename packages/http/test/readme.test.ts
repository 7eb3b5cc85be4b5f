import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor } from '@cronkeeper/core';
import { manualClock } from '@cronkeeper/core/testing';
import { describe, expect, it } from 'vitest';
import { allowAll, createCronHandler } from '../src/index.js';

// The package README's "Testing" sample, kept word for word, with the answers its comments promise.
describe('README: Testing', () => {
  it('answers 202, 409 until the run has run, 429 with Retry-After: 30, then 202 once the clock moved', async () => {
    const executors = { report: defineExecutor({ run: () => ({ ok: true }) }) };

    const clock = manualClock('2026-03-29T10:00:00Z');
    const scheduler = createScheduler({ store: memoryStore(), clock, logger: false, executors });
    await scheduler.jobs.create({ name: 'nightly', schedule: 'daily', executor: 'report' });
    const handle = createCronHandler(scheduler, { authorize: allowAll, clock });
    const trigger = () =>
      handle(
        new Request('http://test/jobs/nightly/trigger', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        }),
      );

    expect((await trigger()).status).toBe(202);
    const pending = await trigger();
    expect(pending.status).toBe(409);
    expect((await pending.json()).error.message).toMatch(/already has a run due/);
    await scheduler.runDue();
    const limited = await trigger();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30');
    clock.advance('31s');
    expect((await trigger()).status).toBe(202);
  });
});
