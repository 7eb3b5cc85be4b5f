import { defineExecutor, parseSchedule, ValidationError } from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

const iso = (date: Date | null) => date?.toISOString() ?? null;

describe('a schedule that runs out of times is never a silent stop', () => {
  // The one way a valid schedule yields no next time: past the last date JavaScript can represent
  // (+275760-09-13). Real jobs never get there; these tests use it to reach the code path for real.
  it('next() says null there, in any zone, rather than throw', () => {
    for (const timezone of ['UTC', 'Europe/Paris', 'Pacific/Kiritimati', 'America/New_York']) {
      const schedule = parseSchedule('0 0 1 1 *', { timezone });
      expect(schedule.next(new Date('+275760-09-12T23:59:59Z')), timezone).toBeNull();
      expect(schedule.next(new Date('+275759-06-01T00:00:00Z')), timezone).not.toBeNull();
      // At the other end, a zone's clock may show a time before the range: null, or a later date.
      const first = new Date(-8.64e15 + 1000);
      const next = schedule.next(first);
      if (next !== null) expect(next.getTime(), timezone).toBeGreaterThan(first.getTime());
    }
  });

  // A job's times end where every store's dates end, 9999-12-31 (UTC): a slot after it is no
  // next time, so a yearly job on 31 December runs out after its slot of the year 9999.
  it('is refused when a job is created with no time left before 9999-12-31', async () => {
    const { scheduler } = fakeTimeScheduler('9999-12-31T12:00:00Z', {
      noop: defineExecutor({ run: () => {} }),
    });
    const error = await scheduler.jobs
      .create({ name: 'late', executor: 'noop', schedule: '0 0 31 12 *' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).path).toBe('schedule');
    expect((error as ValidationError).message).toMatch(/times end on 9999-12-31/);
  });

  it('is refused when a paused job with no time left is resumed', async () => {
    const { clock, scheduler } = fakeTimeScheduler('9999-06-01T00:00:00Z', {
      noop: defineExecutor({ run: () => {} }),
    });
    await scheduler.jobs.create({ name: 'late', executor: 'noop', schedule: '0 0 31 12 *', enabled: false });
    clock.set('9999-12-31T12:00:00Z');
    const error = await scheduler.jobs.resume('late').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).path).toBe('schedule');
  });

  it('reports a job whose schedule ran out after its last slot, and still runs that slot', async () => {
    const { clock, scheduler } = fakeTimeScheduler('9999-12-30T00:00:00Z', {
      noop: defineExecutor({ run: () => {} }),
    });
    const errors: { operation: string; error: Error }[] = [];
    scheduler.on('scheduler:error', (event) => errors.push(event));
    await scheduler.jobs.create({ name: 'last', executor: 'noop', schedule: '0 0 31 12 *' });
    clock.set('9999-12-31T00:00:00Z');
    const { executed } = await scheduler.runDue();
    expect(executed.map((run) => iso(run.scheduledFor))).toEqual(['9999-12-31T00:00:00.000Z']);
    expect((await scheduler.jobs.get('last')).nextRunAt).toBeNull();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.operation).toBe('plan job "last"');
    expect(errors[0]?.error.message).toMatch(/will not fire again/);
  });

  it('a job whose active window ended stops quietly: that is not an error', async () => {
    const { clock, scheduler } = fakeTimeScheduler('2026-01-01T00:00:00Z', {
      noop: defineExecutor({ run: () => {} }),
    });
    const errors: unknown[] = [];
    scheduler.on('scheduler:error', (event) => errors.push(event));
    await scheduler.jobs.create({
      name: 'window',
      executor: 'noop',
      schedule: 'daily',
      activeUntil: new Date('2026-01-02T12:00:00Z'),
    });
    clock.set('2026-01-02T00:00:00Z');
    await scheduler.runDue();
    expect((await scheduler.jobs.get('window')).nextRunAt).toBeNull();
    expect(errors).toEqual([]);
  });
});
