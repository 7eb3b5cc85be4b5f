import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler } from '@cronkeeper/core';
import { expect, it } from 'vitest';

// Regression found by the chaos suite (a slot "never fired" once in a while): jobs.create read the
// clock twice, once for `createdAt` and once for the first slot. When the second reading crossed a
// slot boundary, the slot right after the job's creation was never scheduled.
it('a job created just before a slot fires that slot', async () => {
  const readings = [new Date('2026-03-01T00:00:02.999Z'), new Date('2026-03-01T00:00:03.001Z')];
  const clock = { now: () => readings.shift() ?? new Date('2026-03-01T00:00:03.001Z') };
  const scheduler = createScheduler({ store: memoryStore(), clock, logger: false, maintenanceJobs: false });
  scheduler.register('tick', { run: () => {} });
  const job = await scheduler.jobs.create({
    name: 'every-second',
    schedule: '* * * * * *',
    executor: 'tick',
  });
  expect(job.createdAt.toISOString()).toBe('2026-03-01T00:00:02.999Z');
  expect(job.nextRunAt?.toISOString()).toBe('2026-03-01T00:00:03.000Z');
});
