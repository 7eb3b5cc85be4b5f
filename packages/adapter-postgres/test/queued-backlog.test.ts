import { postgresStore } from '@cronkeeper/adapter-postgres';
import type { FinishRunInput, Store } from '@cronkeeper/core';
import { at, newRun } from '@cronkeeper/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlNames } from '../src/names.js';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

// A backlog queued on one concurrency key drains one run at a time. A claim parks each queued run
// it meets behind the busy key once, and each run's end unparks only the next one: with every
// claim walking (and, once the key freed, locking) the whole backlog again, draining n runs cost
// O(n²) and 10 000 one-offs of one executor ran at about 5 a second.
const BACKLOG = 2000;
const KEY = 'executor:send-email';

describe.skipIf(!pgAvailable)('postgres store: a backlog queued on one key', () => {
  const schema = uniqueSchema('backlog');
  const n = sqlNames(schema, 'cronkeeper_');
  let pool: pg.Pool;
  let store: Store;

  const succeeded = (runId: string, ms: number): FinishRunInput => ({
    runId,
    fence: { workerId: 'w1' },
    now: at(ms),
    status: 'succeeded',
    result: null,
    error: null,
  });
  const count = async (where: string): Promise<number> =>
    Number((await pool.query(`SELECT count(*) AS n FROM ${n.runs} WHERE ${where}`)).rows[0].n);

  beforeAll(async () => {
    pool = newPool({ max: 4 });
    store = postgresStore({ pool, schema, notify: false });
    await store.init();
  });

  afterAll(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('parks the backlog once and unparks one run per finished run, in claim order', async () => {
    const created = await store.createRuns(
      Array.from({ length: BACKLOG }, (_, index) => ({
        run: newRun({ concurrencyKey: KEY, overlap: 'queue', runAt: at(-1000), createdAt: at(index) }),
        now: at(0),
        rejectIfActive: false,
      })),
    );
    const ids = created.map((result) => result.run.id);

    const first = await store.claimRuns({ workerId: 'w1', now: at(0), limit: 10, leaseMs: 60_000 });
    expect(first.claimed.map((run) => run.id)).toEqual([ids[0]]);
    expect(await count(`parked AND status = 'pending'`)).toBe(BACKLOG - 1);
    // Claims while the key stays busy read no parked run again and change nothing.
    await store.claimRuns({ workerId: 'w2', now: at(0), limit: 10, leaseMs: 60_000 });
    expect(await count(`parked AND status = 'pending'`)).toBe(BACKLOG - 1);

    let running = ids[0] as string;
    for (let index = 1; index < 6; index++) {
      const result = await store.finishAndClaim({
        finishes: [succeeded(running, index)],
        claim: { workerId: 'w1', now: at(index), limit: 10, leaseMs: 60_000 },
      });
      expect(result.claimed.map((run) => run.id)).toEqual([ids[index]]);
      expect(await count(`parked AND status = 'pending'`)).toBe(BACKLOG - 1 - index);
      expect(await count(`parked IS NOT TRUE AND status = 'pending'`)).toBe(0);
      running = ids[index] as string;
    }
  });
});
