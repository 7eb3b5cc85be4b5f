import { describe, expect, it } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

const noop = { run: () => {} };

describe('misfire after a long downtime on a schedule with quiet hours', () => {
  // Monday 2026-03-02 09:00 UTC; a minutely job during business hours, down until Sunday.
  async function downAWeek(misfire: 'once' | 'all') {
    const errors: unknown[] = [];
    const { scheduler, clock } = fakeTimeScheduler('2026-03-02T08:59:30Z', { a: noop });
    scheduler.on('scheduler:error', (event) => errors.push(event));
    await scheduler.jobs.create({
      name: 'office',
      schedule: '* 9-17 * * 1-5',
      executor: 'a',
      misfire,
      catchUpLimit: 3,
      overlap: 'allow',
    });
    clock.set('2026-03-08T12:00:00Z');
    const { executed } = await scheduler.runDue();
    const job = await scheduler.jobs.get('office');
    return { errors, job, slots: executed.map((run) => run.scheduledFor?.toISOString()) };
  }

  it('once: runs the newest missed slot and keeps the job scheduled', async () => {
    const { errors, job, slots } = await downAWeek('once');
    expect(errors).toEqual([]);
    expect(slots).toEqual(['2026-03-06T17:59:00.000Z']);
    expect(job.nextRunAt?.toISOString()).toBe('2026-03-09T09:00:00.000Z');
  });

  it('all: runs the newest catchUpLimit slots and keeps the job scheduled', async () => {
    const { errors, job, slots } = await downAWeek('all');
    expect(errors).toEqual([]);
    expect(slots).toEqual([
      '2026-03-06T17:57:00.000Z',
      '2026-03-06T17:58:00.000Z',
      '2026-03-06T17:59:00.000Z',
    ]);
    expect(job.nextRunAt?.toISOString()).toBe('2026-03-09T09:00:00.000Z');
  });
});
