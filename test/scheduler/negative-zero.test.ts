import { describe, expect, it } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

describe('-0 in a job', () => {
  // PostgreSQL and Redis hand -0 back as 0; every store must answer what they answer.
  it('reads back as 0 from create, get, trigger and the run', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: { run: () => {} } });
    const values = { zero: -0, list: [-0, [-0]], nested: { zero: -0 } };
    const plain = { zero: 0, list: [0, [0]], nested: { zero: 0 } };
    const created = await scheduler.jobs.create({
      name: 'j',
      schedule: 'daily',
      executor: 'a',
      params: values,
      metadata: values,
    });
    const read = await scheduler.jobs.get('j');
    const run = await scheduler.trigger({ job: 'j', params: values });
    const stored = await scheduler.runs.get(run.id);
    for (const object of [
      created.params,
      created.metadata,
      read.params,
      read.metadata,
      run.params,
      stored.params,
    ])
      expect(object).toStrictEqual(plain);
  });

  it('reads back as 0 in every number setting of a job and its runs, created or updated', async () => {
    const { scheduler } = fakeTimeScheduler('2026-03-01T00:00:00Z', { a: { run: () => {} } });
    const signed = (object: object) =>
      JSON.stringify(object, (_, value) => (Object.is(value, -0) ? 'minus zero' : value));
    const created = await scheduler.jobs.create({
      name: 'n',
      schedule: 'daily',
      executor: 'a',
      priority: -0,
      jitter: -0,
      misfireGrace: -0,
      retry: { limit: -0, backoff: { type: 'fixed', delay: -0 } },
    });
    const updated = await scheduler.jobs.update('n', { priority: -0, jitterMs: -0, misfireGraceMs: -0 });
    const run = await scheduler.trigger({ job: 'n' });
    for (const record of [
      created,
      updated,
      await scheduler.jobs.get('n'),
      run,
      await scheduler.runs.get(run.id),
    ])
      expect(signed(record)).not.toContain('minus zero');
    expect(created).toMatchObject({ priority: 0, jitterMs: 0, misfireGraceMs: 0, retry: { limit: 0 } });
  });
});
