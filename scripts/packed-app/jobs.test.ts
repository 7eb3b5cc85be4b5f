// A host app's own test under node:test (no vitest installed): @cronkeeper/core/testing must load
// and work without any test runner.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler, defineExecutor } from '@cronkeeper/core';
import { manualClock } from '@cronkeeper/core/testing';

test('a job due every morning runs once per day in fake time', async () => {
  const clock = manualClock('2026-03-29T00:00:00Z');
  const days: string[] = [];
  const scheduler = createScheduler({
    store: memoryStore(),
    clock,
    logger: false,
    maintenanceJobs: false,
    executors: {
      report: defineExecutor({
        run: async (ctx) => {
          days.push(ctx.run.scheduledFor?.toISOString().slice(0, 10) ?? 'manual');
        },
      }),
    },
  });
  await scheduler.jobs.create({ name: 'morning-report', schedule: '0 6 * * *', executor: 'report' });
  for (let day = 0; day < 3; day += 1) {
    clock.advance('1d');
    await scheduler.runDue();
  }
  assert.deepEqual(days, ['2026-03-29', '2026-03-30', '2026-03-31']);
});
