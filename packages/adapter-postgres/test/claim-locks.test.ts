import { type PostgresStore, postgresStore } from '@cronkeeper/adapter-postgres';
import type { FinishRunInput } from '@cronkeeper/core';
import { at, newRun } from '@cronkeeper/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlNames } from '../src/names.js';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

// A claim starts by unparking the first parked run of every free key, holding those keys' claim
// locks. It must never wait for a row lock there: a host's transaction (through `store.bind`)
// holding a parked run would stall the worker's claims of every key, and would deadlock with it
// once that transaction takes the key's lock (createRun with rejectIfActive).
const succeeded = (runId: string, ms: number): FinishRunInput => ({
  runId,
  fence: { workerId: 'w1' },
  now: at(ms),
  status: 'succeeded',
  result: null,
  error: null,
});

async function waitForLockWait(pool: pg.Pool, applicationName: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
      [applicationName],
    );
    if (rows[0].n > 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe.skipIf(!pgAvailable)('postgres claims never wait on a parked run another transaction holds', () => {
  const schema = uniqueSchema('claimlocks');
  const n = sqlNames(schema, 'cronkeeper_');
  let pool: pg.Pool;
  let claimPool: pg.Pool;
  let store: PostgresStore;
  let claimStore: PostgresStore;
  const app = `claimer-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    pool = newPool({ max: 6 });
    claimPool = newPool({ max: 2, applicationName: app });
    store = postgresStore({ pool, schema, notify: false });
    claimStore = postgresStore({ pool: claimPool, schema, notify: false });
    await store.init();
  });

  afterAll(async () => {
    await claimPool.end();
    await dropSchema(pool, schema);
    await pool.end();
  });

  /**
   * For each key: a run ran and finished, with `backlog` queued runs parked behind it, so the key
   * is free and its parked runs wait for the next claim to unpark the first. Returns the parked ids.
   */
  async function freeKeysWithParked(keys: string[], backlog: number, t: number): Promise<string[][]> {
    const byKey: string[][] = [];
    for (const [k, key] of keys.entries()) {
      const created = await store.createRuns(
        Array.from({ length: backlog + 1 }, (_, i) => ({
          run: newRun({
            concurrencyKey: key,
            overlap: 'queue',
            runAt: at(-1000),
            createdAt: at(t + k * 100 + i),
          }),
          now: at(t),
          rejectIfActive: false,
        })),
      );
      byKey.push(created.map((c) => c.run.id));
    }
    const claimed = await store.claimRuns({
      workerId: 'w1',
      now: at(t + 1000),
      limit: 1000,
      leaseMs: 60_000,
    });
    for (const ids of byKey) expect(claimed.claimed.map((r) => r.id)).toContain(ids[0]);
    await store.finishRuns(byKey.map((ids) => succeeded(ids[0] as string, t + 1001)));
    const hasParked = (
      await pool.query(
        `SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'parked'`,
        [schema],
      )
    ).rowCount;
    for (const key of hasParked ? keys : []) {
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM ${n.runs} WHERE concurrency_key = $1 AND parked AND status = 'pending'`,
        [key],
      );
      expect(rows[0].n).toBe(backlog);
    }
    return byKey.map((ids) => ids.slice(1));
  }

  it("a host's open transaction holding a parked run does not stall a worker's claim", async () => {
    const [parkedA] = await freeKeysWithParked(['stall:a', 'stall:b'], 3, 1000);
    // Plenty of unrelated due work too.
    await store.createRuns(
      Array.from({ length: 5 }, (_, i) => ({
        run: newRun({
          concurrencyKey: `stall:free:${i}`,
          overlap: 'queue',
          runAt: at(-1000),
          createdAt: at(i),
        }),
        now: at(0),
        rejectIfActive: false,
      })),
    );
    const client = await pool.connect();
    await client.query('BEGIN');
    const bound = store.bind(client);
    // The user's transaction cancels the first queued run of key a (and goes on with other work).
    await bound.cancelRun({ runId: (parkedA as string[])[0] as string, now: at(3000), by: 'user' });

    let settled = false;
    const claim = claimStore
      .claimRuns({ workerId: 'w2', now: at(3001), limit: 10, leaseMs: 60_000 })
      .finally(() => {
        settled = true;
      });
    const waited = await waitForLockWait(pool, app);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const stillWaiting = !settled;
    await client.query('COMMIT');
    client.release();
    // The claim went on without the held run: the unrelated due runs started.
    expect((await claim).claimed.length).toBeGreaterThan(0);
    expect(waited).toBe(false);
    expect(stillWaiting).toBe(false);
  });

  it("a claim and a host's transaction (cancel a queued run, enqueue its replacement with rejectIfActive) do not deadlock", async () => {
    const [parked = []] = await freeKeysWithParked(['dl:a'], 2, 5000);
    const client = await pool.connect();
    await client.query('BEGIN');
    const bound = store.bind(client);
    await bound.cancelRun({ runId: parked[0] as string, now: at(6000), by: 'user' });

    const claim = claimStore.claimRuns({ workerId: 'w2', now: at(6001), limit: 10, leaseMs: 60_000 }).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    expect(await waitForLockWait(pool, app)).toBe(false);
    const replace = bound
      .createRun({
        run: newRun({ concurrencyKey: 'dl:a', overlap: 'queue', runAt: at(6000), createdAt: at(6000) }),
        now: at(6002),
        rejectIfActive: true,
      })
      .then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    const [claimResult, replaceResult] = await Promise.all([claim, replace]);
    await client.query(replaceResult.ok ? 'COMMIT' : 'ROLLBACK');
    client.release();
    expect(claimResult.ok && replaceResult.ok).toBe(true);
  });

  it('a held run first in line keeps its place: the key waits rather than start the run behind it', async () => {
    const key = 'order:k';
    // A ran and ended; B, first in line, was parked behind it; C came later and was never parked.
    const [a, b] = await store.createRuns(
      [0, 1].map((i) => ({
        run: newRun({ concurrencyKey: key, overlap: 'queue', runAt: at(-1000), createdAt: at(9000 + i) }),
        now: at(9000),
        rejectIfActive: false,
      })),
    );
    const first = await store.claimRuns({ workerId: 'w1', now: at(9010), limit: 10, leaseMs: 60_000 });
    expect(first.claimed.map((run) => run.id)).toContain(a?.run.id);
    await store.finishRuns([succeeded(a?.run.id as string, 9011)]);
    const c = await store.createRun({
      run: newRun({ concurrencyKey: key, overlap: 'queue', runAt: at(-1000), createdAt: at(9002) }),
      now: at(9012),
      rejectIfActive: false,
    });
    // Another transaction holds B, so no claim may unpark or start it now.
    const holder = await pool.connect();
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM ${n.runs} WHERE id = $1 FOR UPDATE`, [b?.run.id]);
    const during = await claimStore.claimRuns({ workerId: 'w2', now: at(9020), limit: 10, leaseMs: 60_000 });
    await holder.query('COMMIT');
    holder.release();
    expect(during.claimed.map((run) => run.id)).not.toContain(c.run.id);
    const after = await claimStore.claimRuns({ workerId: 'w2', now: at(9030), limit: 10, leaseMs: 60_000 });
    expect(after.claimed.map((run) => run.id)).toEqual([b?.run.id]);
  });
});
