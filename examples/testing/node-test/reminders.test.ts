// The docs/testing.md example: a host app tests its own job with node:test, in fake time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler } from '@cronkeeper/core';
import { manualClock } from '@cronkeeper/core/testing';
import { REMINDER_JOB, reminderExecutors } from '../src/reminders.js';

function setup(outbox: { send(to: string, text: string): void }) {
  // 29 March 2026: Paris moves its clocks forward at 02:00, so 09:00 there is 07:00 UTC.
  const clock = manualClock('2026-03-29T00:00:00Z');
  const scheduler = createScheduler({
    store: memoryStore(),
    clock,
    executors: reminderExecutors(outbox),
    logger: false,
    maintenanceJobs: false,
  });
  return { clock, scheduler };
}

test('reminders go out at 09:00 Paris time, once', async () => {
  const sent: string[] = [];
  const { clock, scheduler } = setup({ send: (to) => void sent.push(to) });
  await scheduler.jobs.create(REMINDER_JOB);

  clock.set('2026-03-29T06:59:00Z'); // 08:59 in Paris: nothing is due yet
  assert.equal((await scheduler.runDue()).summary.total, 0);

  clock.advance('1m');
  const { summary, executed } = await scheduler.runDue();
  assert.deepEqual(summary, { total: 1, executed: 1, skipped: 0, failed: 0 });
  assert.deepEqual(executed[0]?.result, { reminded: 2 });
  assert.deepEqual(sent, ['ada@example.com', 'alan@example.com']);

  clock.advance('1h');
  assert.equal((await scheduler.runDue()).summary.total, 0, 'the slot fires once');
});

test('a failed reminder is retried ten minutes later', async () => {
  let down = true;
  const sent: string[] = [];
  const { clock, scheduler } = setup({
    send: (to) => {
      if (down) throw new Error('mail server unavailable');
      sent.push(to);
    },
  });
  await scheduler.jobs.create(REMINDER_JOB);

  clock.set('2026-03-29T07:00:00Z');
  const first = await scheduler.runDue();
  assert.equal(first.failed[0]?.error?.message, 'mail server unavailable');

  down = false;
  clock.advance('10m');
  const retry = await scheduler.runDue();
  assert.equal(retry.executed[0]?.trigger, 'retry');
  assert.equal(retry.executed[0]?.attempt, 2);
  assert.deepEqual(sent, ['ada@example.com', 'alan@example.com']);
});
