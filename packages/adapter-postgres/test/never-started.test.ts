import { postgresStore } from '@cronkeeper/adapter-postgres';
import { createScheduler, defineExecutor, NotFoundError, type Scheduler } from '@cronkeeper/core';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

// The README's quick start creates a job before start(): every call must work on an empty schema.
let pool: pg.Pool;
const schemas: string[] = [];

function onFreshSchema() {
  const schema = uniqueSchema('lazy');
  schemas.push(schema);
  const store = postgresStore({ pool, schema, notify: false });
  let inits = 0;
  const init = store.init.bind(store);
  store.init = () => {
    inits += 1;
    return init();
  };
  const scheduler = createScheduler({
    store,
    logger: false,
    maintenanceJobs: false,
    executors: { echo: defineExecutor({ run: () => 'pong' }) },
  });
  return { scheduler, inits: () => inits };
}

const job = { name: 'nightly', schedule: '0 2 * * *', executor: 'echo' } as const;
const FIRST_CALLS: Record<string, (scheduler: Scheduler) => Promise<unknown>> = {
  'jobs.create': (s) => s.jobs.create(job),
  'jobs.get': (s) => s.jobs.get('nightly'),
  'jobs.list': (s) => s.jobs.list(),
  'jobs.update': (s) => s.jobs.update('nightly', { description: 'x' }),
  'jobs.pause': (s) => s.jobs.pause('nightly'),
  'jobs.resume': (s) => s.jobs.resume('nightly'),
  'jobs.delete': (s) => s.jobs.delete('nightly'),
  'jobs.seed': (s) => s.jobs.seed([job]),
  'runs.get': (s) => s.runs.get('00000000-0000-4000-8000-000000000000'),
  'runs.list': (s) => s.runs.list(),
  trigger: (s) => s.trigger({ executor: 'echo' }),
  cancel: (s) => s.cancel('00000000-0000-4000-8000-000000000000'),
  dashboard: (s) => s.dashboard(),
};

describe.skipIf(!pgAvailable)('postgres: a scheduler that was never started', () => {
  beforeAll(() => {
    pool = newPool({ max: 4 });
  });
  afterAll(async () => {
    if (!pool) return;
    for (const schema of schemas) await dropSchema(pool, schema);
    await pool.end();
  });

  it.each(Object.keys(FIRST_CALLS))('answers %s on an empty schema', async (name) => {
    const { scheduler, inits } = onFreshSchema();
    const call = FIRST_CALLS[name] as (s: Scheduler) => Promise<unknown>;
    const outcome = await call(scheduler).then(
      () => null,
      (error: unknown) => error,
    );
    if (outcome !== null) expect(outcome).toBeInstanceOf(NotFoundError);
    expect(inits()).toBe(1);
  });

  it('creates a job, triggers it and reads it back before start(), with one init for parallel first calls', async () => {
    const { scheduler, inits } = onFreshSchema();
    const [created, , listed] = await Promise.all([
      scheduler.jobs.create(job),
      scheduler.jobs.create({ ...job, name: 'hourly', schedule: '@hourly' }),
      scheduler.runs.list(),
      scheduler.dashboard(),
    ]);
    expect(created.name).toBe('nightly');
    expect(listed.items).toEqual([]);
    expect(inits()).toBe(1);
    const run = await scheduler.trigger({ job: 'nightly' });
    await scheduler.runDue();
    expect((await scheduler.runs.get(run.id)).result).toBe('pong');
    expect((await scheduler.jobs.list()).map((each) => each.name)).toEqual(['hourly', 'nightly']);
  });
});
