import { randomUUID } from 'node:crypto';
import { postgresStore } from '@cronkeeper/adapter-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initSql } from '../src/migrations/001-init.js';
import { type SqlNames, sqlNames } from '../src/names.js';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

const T = Date.parse('2030-01-01T00:00:00Z');
const KEYS = ['a', 'b', 'c', 'd'];
const OVERLAPS = ['skip', 'queue', 'allow'] as const;

/** A small deterministic generator, so a failing seed can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)] as T;
}

/**
 * Versions 4 and 5 rewrote the claim function for speed only: its decisions (order, overlap policies,
 * skipped runs' fields, tasks ended by the trigger) must be version 1's. Version 1's function is
 * installed next to it under another name, and both claim the same rows in transactions that are
 * rolled back.
 */
describe.skipIf(!pgAvailable)('postgres claim function (latest version) against version 1', () => {
  const schema = uniqueSchema('claimorder');
  const n = sqlNames(schema, 'cronkeeper_');
  const legacy: SqlNames = {
    ...n,
    claimRuns: `${n.schemaSql}."legacy_claim_runs"`,
    createRun: `${n.schemaSql}."legacy_create_run"`,
  };
  let pool: pg.Pool;

  beforeAll(async () => {
    pool = newPool({ max: 12 });
    await postgresStore({ pool, schema, notify: false }).init();
    await pool.query(initSql(legacy));
  });

  afterAll(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  async function seed(seedValue: number, count: number): Promise<void> {
    const next = random(seedValue);
    await pool.query(`TRUNCATE ${n.runs}`);
    const runningKeys = new Set<string>();
    for (let i = 0; i < count; i++) {
      const key = pick(next, KEYS);
      const overlap = pick(next, OVERLAPS);
      let status = next() < 0.8 ? 'pending' : 'running';
      // The database holds at most one running exclusive run per key (runs_exclusive).
      if (status === 'running' && overlap !== 'allow') {
        if (runningKeys.has(key)) status = 'pending';
        else runningKeys.add(key);
      }
      const task = (taskStatus: string) => ({ executor: 'x', status: taskStatus, params: {} });
      await pool.query(
        `INSERT INTO ${n.runs} (id, executor, trigger, status, tasks, run_at, created_at, overlap, concurrency_key, priority,
                                worker_id, started_at, lease_until)
         VALUES ($1, 'x', 'manual', $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $10)`,
        [
          randomUUID(),
          status,
          JSON.stringify([task('succeeded'), task(status), task('pending')]),
          new Date(T + pick(next, [-2000, -1000, -1000, 0, 0, 1000])),
          new Date(T + pick(next, [-5000, 0, 0])),
          overlap,
          key,
          pick(next, [-1, 0, 0, 3]),
          status === 'running' ? 'other' : null,
          status === 'running' ? new Date(T - 10_000) : null,
        ],
      );
    }
  }

  /** Claims rounds in one transaction (rolled back): what each round returned, then the table. */
  async function claimRounds(fn: string, limits: number[]): Promise<unknown> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const rounds = [];
      for (const [round, limit] of limits.entries()) {
        const { rows } = await client.query(
          `SELECT c.outcome, to_jsonb(c.run) - 'parked' AS run FROM ${fn}($1, $2, $3, $4) AS c`,
          [`w${round}`, new Date(T + round * 1000), limit, 30_000],
        );
        rounds.push({
          claimed: rows.filter((row) => row.outcome === 'claimed').map((row) => row.run),
          skipped: rows.filter((row) => row.outcome === 'skipped').map((row) => row.run),
        });
      }
      // Version 5 parks the queued runs it found behind a busy key; everything else is version 1's.
      const table = await client.query(
        `SELECT to_jsonb(r) - 'parked' AS run FROM ${n.runs} AS r ORDER BY id`,
      );
      return { rounds, table: table.rows.map((row) => row.run) };
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'seed %i: claims, skips and leaves pending exactly the runs version 1 did, with the same fields',
    async (seedValue) => {
      await seed(seedValue, 40);
      for (const limits of [[0], [1, 1, 1, 1], [3, 3, 3], [100], [2, 0, 5, 100]]) {
        const before = await claimRounds(legacy.claimRuns, limits);
        const after = await claimRounds(n.claimRuns, limits);
        expect(after, JSON.stringify(limits)).toEqual(before);
      }
    },
  );

  it('while an instance of the previous release claims with its function, no claim errors and no key runs twice', async () => {
    // The upgrade window: instances still on version 1's function and instances on the latest
    // claim the same backlog of exclusive runs at once.
    await pool.query(`TRUNCATE ${n.runs}`);
    await pool.query(
      `INSERT INTO ${n.runs} (id, executor, trigger, status, tasks, run_at, created_at, overlap, concurrency_key, priority)
       SELECT gen_random_uuid(), 'x', 'manual', 'pending', '[]', $1::timestamptz - i * interval '1 ms', $1,
              (ARRAY['skip', 'queue', 'queue', 'allow'])[1 + i % 4], 'k' || (i % 6), i % 2
       FROM generate_series(1, 300) AS i`,
      [new Date(T)],
    );
    const claimedBy = new Map<string, number>();
    let errors = 0;
    const claimer = async (fn: string, worker: string) => {
      for (let round = 0; round < 15; round++) {
        const { rows } = await pool
          .query(`SELECT c.outcome, (c.run).id, (c.run).concurrency_key FROM ${fn}($1, $2, 4, 30000) AS c`, [
            worker,
            new Date(T),
          ])
          .catch((error: unknown) => {
            errors++;
            throw error;
          });
        for (const row of rows)
          if (row.outcome === 'claimed') claimedBy.set(row.id, (claimedBy.get(row.id) ?? 0) + 1);
        // Finish what this worker runs, so queued runs of its keys become claimable.
        await pool.query(
          `UPDATE ${n.runs} SET status = 'succeeded', finished_at = $2 WHERE worker_id = $1 AND status = 'running'`,
          [worker, new Date(T)],
        );
      }
    };
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => claimer(i % 2 === 0 ? legacy.claimRuns : n.claimRuns, `w${i}`)),
    );
    expect(errors).toBe(0);
    expect([...claimedBy.values()].every((times) => times === 1)).toBe(true);
    const { rows } = await pool.query(
      `SELECT status, count(*)::int AS count FROM ${n.runs} GROUP BY status ORDER BY status`,
    );
    // Every run was decided on: claimed (and finished here) or skipped; none was lost.
    const total = rows.reduce((sum, row) => sum + row.count, 0);
    expect(total).toBe(300);
    expect(claimedBy.size).toBe(rows.find((row) => row.status === 'succeeded')?.count ?? 0);
  });
});
