import { postgresStore } from '@cronkeeper/adapter-postgres';
import { runStoreContract } from '@cronkeeper/core/contract';
import type pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

const base = uniqueSchema('contract');
let admin: pg.Pool;
let pools: pg.Pool[] = [];
let test = 0;
const schema = () => `${base}_${test}`;

describe.skipIf(!pgAvailable)('postgres store', () => {
  beforeAll(() => {
    admin = newPool({ max: 2 });
  });
  afterAll(async () => {
    await admin?.end();
  });

  runStoreContract('postgres', {
    // A fresh schema per test is a fresh, empty database.
    setup: async () => {
      test += 1;
    },
    createStore: () => {
      const pool = newPool();
      pools.push(pool);
      return postgresStore({ pool, schema: schema() });
    },
    teardown: async () => {
      const open = pools;
      pools = [];
      await Promise.all(open.map((pool) => pool.end()));
      await dropSchema(admin, schema());
    },
    inspect: {
      run: (id) => rawRow(`SELECT * FROM "${schema()}".cronkeeper_runs WHERE id = $1`, id),
      job: (id) => rawRow(`SELECT * FROM "${schema()}".cronkeeper_jobs WHERE id = $1`, id),
    },
  });
});

async function rawRow(sql: string, id: string): Promise<Record<string, unknown> | null> {
  const { rows } = await admin.query(sql, [id]);
  return rows[0] ?? null;
}
