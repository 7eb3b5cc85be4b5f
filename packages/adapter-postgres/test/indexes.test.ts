import { postgresStore } from '@cronkeeper/adapter-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOT_QUERIES } from '../src/claim-path.js';
import {
  claimCandidatesSql,
  headOfLineSql,
  releaseParkedSql,
} from '../src/migrations/claim-runs-function.js';
import { sqlNames } from '../src/names.js';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

const JOBS = 100_000;
const RUNS = 100_000;
const NOW = new Date('2026-06-01T12:00:00.000Z');
const schema = uniqueSchema('plans');
const n = sqlNames(schema, 'cronkeeper_');
let pool: pg.Pool;

/** The plan PostgreSQL picks for `sql` with these parameter values, as text. */
async function plan(sql: string, values: unknown[]): Promise<string> {
  const { rows } = await pool.query(`EXPLAIN ${sql}`, values);
  const text = rows.map((row) => row['QUERY PLAN']).join('\n');
  // CRONKEEPER_SHOW_PLANS=1 prints them (docs/postgres.md quotes this output).
  if (process.env.CRONKEEPER_SHOW_PLANS) console.log(`${sql}\n${text}\n`);
  return text;
}

function expectIndexOnly(text: string, index: string): void {
  expect(text, text).toContain(index);
  expect(text, text).not.toMatch(/Seq Scan/);
}

describe.skipIf(!pgAvailable)('postgres indexes: cost follows the due work', () => {
  beforeAll(async () => {
    pool = newPool({ max: 2 });
    const store = postgresStore({ pool, schema });
    await store.init();
    await store.close();
    // 100 000 jobs: one in ten disabled, 20 due, the rest spread over the coming months.
    await pool.query(
      `INSERT INTO ${n.jobs} (id, name, schedule, timezone, tasks, overlap, misfire, catch_up_limit,
                              enabled, next_run_at, created_at, updated_at)
       SELECT gen_random_uuid(), 'job-' || i, '* * * * *', 'UTC', '[]', 'skip', 'once', 10,
              i % 10 <> 0, $1::timestamptz + (i - 20) * interval '1 minute', $1, $1
       FROM generate_series(1, ${JOBS}) AS i`,
      [NOW],
    );
    // 100 000 runs: finished history, plus 50 due pending, 500 future pending and 100 running.
    await pool.query(
      `INSERT INTO ${n.runs} (id, executor, trigger, status, tasks, run_at, created_at, started_at,
                              finished_at, overlap, concurrency_key, worker_id, lease_until)
       SELECT gen_random_uuid(), 'exec-' || (i % 7), 'schedule',
              CASE WHEN i <= 50 THEN 'pending' WHEN i <= 550 THEN 'pending' WHEN i <= 650 THEN 'running'
                   ELSE 'succeeded' END,
              '[]',
              CASE WHEN i <= 50 THEN $1::timestamptz - i * interval '1 second'
                   ELSE $1::timestamptz + (i - 300) * interval '1 minute' END,
              $1::timestamptz - i * interval '1 minute',
              CASE WHEN i > 550 THEN $1::timestamptz - i * interval '1 minute' END,
              CASE WHEN i > 650 THEN $1::timestamptz - i * interval '1 minute' + interval '5 seconds' END,
              'queue', 'key-' || i,
              CASE WHEN i > 550 AND i <= 650 THEN 'worker' END,
              CASE WHEN i > 550 AND i <= 650 THEN $1::timestamptz + (i - 600) * interval '1 second' END
       FROM generate_series(1, ${RUNS}) AS i`,
      [NOW],
    );
    await pool.query(`ANALYZE ${n.jobs}`);
    await pool.query(`ANALYZE ${n.runs}`);
  }, 120_000);

  afterAll(async () => {
    if (!pool) return;
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('findDueJobs reads the due jobs through the partial next_run_at index', async () => {
    const text = await plan(HOT_QUERIES.dueJobs(n), [NOW, 100]);
    expectIndexOnly(text, 'cronkeeper_jobs_due');
    const store = postgresStore({ pool, schema, notify: false });
    const due = await store.findDueJobs({ now: NOW, limit: 100 });
    expect(due).toHaveLength(18); // 20 due, minus the two that are disabled
  });

  it('nextWakeAt reads one entry of each partial index', async () => {
    const text = await plan(HOT_QUERIES.nextWake(n), [NOW]);
    expectIndexOnly(text, 'cronkeeper_jobs_due');
    expect(text).toContain('cronkeeper_runs_due');
  });

  it('with few runs due, claims find them through a pending-runs index', async () => {
    const text = await plan(claimCandidatesSql(n, '$1::timestamptz'), [NOW]);
    expect(text, text).toMatch(/cronkeeper_runs_(due|claimable)/);
    expect(text, text).not.toMatch(/Seq Scan/);
  });

  it('behind a backlog of due runs, a claim walks the claim-order index instead of sorting the backlog', async () => {
    // The claim reads its candidates through a cursor (planned for its first rows), so a claim of
    // 10 runs reads about 10 runs whatever the backlog. Sorting 20 000 due runs per claim was what
    // made each claim cost as much as the backlog.
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO ${n.runs} (id, executor, trigger, status, tasks, run_at, created_at, overlap, concurrency_key, priority)
         SELECT gen_random_uuid(), 'exec', 'manual', 'pending', '[]', $1::timestamptz - i * interval '1 millisecond',
                $1, 'allow', 'backlog-' || i, i % 3
         FROM generate_series(1, 20000) AS i`,
        [NOW],
      );
      await client.query(`ANALYZE ${n.runs}`);
      const { rows } = await client.query(
        `EXPLAIN DECLARE candidates NO SCROLL CURSOR FOR ${claimCandidatesSql(n, '$1::timestamptz')}`,
        [NOW],
      );
      const text = rows.map((row) => row['QUERY PLAN']).join('\n');
      if (process.env.CRONKEEPER_SHOW_PLANS) console.log(`claim candidates behind a backlog\n${text}\n`);
      expectIndexOnly(text, 'cronkeeper_runs_claimable');
      expect(text, text).not.toMatch(/Sort/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('a claim finds the first parked run of each freed key through the parked index, whatever the backlogs', async () => {
    // 20 000 runs parked on 4 keys: the release reads one entry per key, never the backlogs.
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO ${n.runs} (id, executor, trigger, status, tasks, run_at, created_at, overlap, concurrency_key, parked)
         SELECT gen_random_uuid(), 'exec', 'manual', 'pending', '[]', $1::timestamptz - i * interval '1 millisecond',
                $1, 'queue', 'parked-' || (i % 4), true
         FROM generate_series(1, 20000) AS i`,
        [NOW],
      );
      await client.query(`ANALYZE ${n.runs}`);
      const { rows } = await client.query(`EXPLAIN ${releaseParkedSql(n)}`);
      const text = rows.map((row) => row['QUERY PLAN']).join('\n');
      if (process.env.CRONKEEPER_SHOW_PLANS) console.log(`release of parked runs\n${text}\n`);
      expectIndexOnly(text, 'cronkeeper_runs_parked');
      // Whether a key is busy: one probe per key of the unique index on exclusive running runs.
      expect(text, text).toContain('cronkeeper_runs_exclusive');
      expect(text, text).not.toMatch(/Sort|hashed SubPlan/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('whether a run is first in line on its key is one probe of the key index, whatever else is due', async () => {
    // 20 000 due runs, 20 of them on the key looked at: the check reads that key's runs only.
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO ${n.runs} (id, executor, trigger, status, tasks, run_at, created_at, overlap, concurrency_key)
         SELECT gen_random_uuid(), 'exec', 'manual', 'pending', '[]', $1::timestamptz - i * interval '1 millisecond',
                $1, 'queue', CASE WHEN i % 1000 = 0 THEN 'line' ELSE 'other-' || i END
         FROM generate_series(1, 20000) AS i`,
        [NOW],
      );
      await client.query(`ANALYZE ${n.runs}`);
      const { rows } = await client.query(`EXPLAIN ${headOfLineSql(n, '$1', '$2::timestamptz')}`, [
        'line',
        NOW,
      ]);
      const text = rows.map((row) => row['QUERY PLAN']).join('\n');
      if (process.env.CRONKEEPER_SHOW_PLANS) console.log(`first in line\n${text}\n`);
      expectIndexOnly(text, 'cronkeeper_runs_key_claimable');
      expect(text, text).not.toMatch(/Sort|Bitmap|cronkeeper_runs_claimable/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('the exclusivity check of a claim is one probe of the running-runs unique index', async () => {
    const text = await plan(
      `SELECT 1 FROM ${n.runs} AS x WHERE x.concurrency_key = $1 AND x.status = 'running' AND x.overlap <> 'allow'`,
      ['key-600'],
    );
    expectIndexOnly(text, 'cronkeeper_runs_exclusive');
  });

  it('findExpiredLeases reads the running runs through the lease index', async () => {
    const text = await plan(HOT_QUERIES.expiredLeases(n), [NOW, 100]);
    expectIndexOnly(text, 'cronkeeper_runs_lease');
  });

  it('the first page of listRuns is a range of the (created_at, id) index', async () => {
    const store = postgresStore({ pool, schema, notify: false });
    const page = await store.listRuns({ limit: 20 });
    expect(page.items).toHaveLength(20);
    const text = await plan(`SELECT * FROM ${n.runs} ORDER BY created_at DESC, id DESC LIMIT $1`, [21]);
    expectIndexOnly(text, 'cronkeeper_runs_created');
  });
});
