import { describe, expect, it } from 'vitest';
import { fakeTimeScheduler } from './helpers.js';

describe('-0 in params and metadata', () => {
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
});
