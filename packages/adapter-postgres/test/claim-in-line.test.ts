import { type PostgresStore, postgresStore } from '@cronkeeper/adapter-postgres';
import type { OverlapPolicy } from '@cronkeeper/core';
import { at, newRun } from '@cronkeeper/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sqlNames } from '../src/names.js';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

// A claim locks a candidate's row before it takes the lock of the candidate's key. Meanwhile a
// second claim skips that row (SKIP LOCKED) and must not start the next run of the same queue in
// its place: queued runs start in claim order, whichever instance claims them.
describe.skipIf(!pgAvailable)('postgres claims start the queued runs of a key in order', () => {
  const schema = uniqueSchema('inline');
  const n = sqlNames(schema, 'cronkeeper_');
  let pool: pg.Pool;
  let claimPool: pg.Pool;
  let store: PostgresStore;
  let claimStore: PostgresStore;

  beforeAll(async () => {
    pool = newPool({ max: 6 });
    claimPool = newPool({ max: 4 });
    store = postgresStore({ pool, schema, notify: false });
    claimStore = postgresStore({ pool: claimPool, schema, notify: false });
    await store.init();
  });

  beforeEach(async () => {
    await pool.query(`TRUNCATE ${n.runs}`);
  });

  afterAll(async () => {
    await claimPool.end();
    await dropSchema(pool, schema);
    await pool.end();
  });

  /** `count` due runs of one key, in claim order (by creation instant). */
  async function lineOf(key: string, overlap: OverlapPolicy, count: number): Promise<string[]> {
    const created = await store.createRuns(
      Array.from({ length: count }, (_, i) => ({
        run: newRun({ concurrencyKey: key, overlap, runAt: at(-1000), createdAt: at(i) }),
        now: at(0),
        rejectIfActive: false,
      })),
    );
    return created.map((result) => result.run.id);
  }

  /** Run `body` while another transaction holds the row of run `id`, as a claim about to start it does. */
  async function whileHeld<T>(id: string, body: () => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT 1 FROM ${n.runs} WHERE id = $1 FOR UPDATE`, [id]);
      return await body();
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  const claim = (ms: number) =>
    claimStore.claimRuns({ workerId: 'w2', now: at(ms), limit: 10, leaseMs: 60_000 });

  it('a queued run waits while the first run of its key is held elsewhere, then the first starts', async () => {
    const [first, ...rest] = await lineOf('line:queue', 'queue', 3);
    const other = await lineOf('line:other', 'queue', 1);
    const during = await whileHeld(first as string, () => claim(1000));
    // The other key's run is not held up; nothing of the held key starts, and nothing is skipped.
    expect(during.claimed.map((run) => run.id)).toEqual(other);
    expect(during.skipped).toEqual([]);
    const after = await claim(2000);
    expect(after.claimed.map((run) => run.id)).toEqual([first]);
    const { rows } = await pool.query(`SELECT id, status FROM ${n.runs} WHERE id = ANY($1)`, [rest]);
    expect(rows.map((row) => row.status)).toEqual(['pending', 'pending']);
  });

  it('runs that may overlap are not held up by a held run of their key', async () => {
    const [first, second] = await lineOf('line:allow', 'allow', 2);
    const during = await whileHeld(first as string, () => claim(1000));
    expect(during.claimed.map((run) => run.id)).toEqual([second]);
  });

  it('a held queued run does not hold up the runs of its key that skip when it is busy', async () => {
    // Order is kept within a queue only: the runs that skip are not checked, and cost nothing more.
    const [queued] = await lineOf('line:mixed', 'queue', 1);
    const [skipping] = await store
      .createRuns([
        {
          run: newRun({ concurrencyKey: 'line:mixed', overlap: 'skip', runAt: at(-1000), createdAt: at(5) }),
          now: at(0),
          rejectIfActive: false,
        },
      ])
      .then((results) => results.map((result) => result.run.id));
    const during = await whileHeld(queued as string, () => claim(1000));
    expect(during.claimed.map((run) => run.id)).toEqual([skipping]);
  });
});
