import { postgresStore } from '@cronkeeper/adapter-postgres';
import { at, DAY, newJob, newRun, T0 } from '@cronkeeper/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

// Behaviour specific to this store's SQL, beyond what the shared contract pins down.
const schema = uniqueSchema('store');
let pool: pg.Pool;
const store = () => postgresStore({ pool, schema, notify: false });

describe.skipIf(!pgAvailable)('postgres store specifics', () => {
  beforeAll(async () => {
    pool = newPool();
    await store().init();
  });
  afterAll(async () => {
    if (!pool) return;
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('failStaleRuns counts every stale run of a job and records the latest one as its last run', async () => {
    const s = store();
    const job = await s.insertJob(newJob({ overlap: 'allow' }));
    const start = async (offset: number) => {
      const { run } = await s.createRun({
        run: newRun({
          jobId: job.id,
          jobName: job.name,
          concurrencyKey: `job:${job.id}`,
          overlap: 'allow',
          runAt: at(offset),
        }),
        now: at(offset),
        rejectIfActive: false,
      });
      const { claimed } = await s.claimRuns({ workerId: 'gone', now: at(offset), limit: 1, leaseMs: DAY });
      expect(claimed.map((each) => each.id)).toEqual([run.id]);
      return run;
    };
    await start(-5 * DAY);
    const later = await start(-4 * DAY);
    const error = { code: 'stale', message: 'in progress for more than 3 days' };
    const failed = await s.failStaleRuns({ startedBefore: at(-3 * DAY), now: T0, error });
    expect(failed).toHaveLength(2);
    expect(await s.getJob(job.id)).toMatchObject({
      runCount: 2,
      errorCount: 2,
      lastRunId: later.id,
      lastRunAt: at(-4 * DAY),
      lastStatus: 'failed',
      lastError: error.message,
      lastDurationMs: 4 * DAY,
    });
  });

  it('pruneRuns removes more finished runs than one batch holds, and only those', async () => {
    const s = store();
    await pool.query(
      `INSERT INTO "${schema}".cronkeeper_runs (id, executor, trigger, status, tasks, run_at, created_at,
                                                finished_at, overlap, concurrency_key)
       SELECT gen_random_uuid(), 'bulk', 'schedule', 'succeeded', '[]', $1, $1, $1, 'allow', 'bulk'
       FROM generate_series(1, 12001)`,
      [at(-40 * DAY)],
    );
    const pending = await s.createRun({
      run: newRun({ createdAt: at(-40 * DAY) }),
      now: T0,
      rejectIfActive: false,
    });
    expect(await s.pruneRuns({ finishedBefore: at(-30 * DAY) })).toBe(12_001);
    expect((await s.getRun(pending.run.id))?.status).toBe('pending');
  });
});
