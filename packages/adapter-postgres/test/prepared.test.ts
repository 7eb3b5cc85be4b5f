import { postgresStore } from '@cronkeeper/adapter-postgres';
import type { Store } from '@cronkeeper/core';
import { newRun, T0 } from '@cronkeeper/core/testing';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { dropSchema, newPool, pgAvailable, uniqueSchema } from './postgres.js';

// One connection, so every statement of a test meets the same session's prepared statements.
let pool: pg.Pool;
let schema: string;

async function openStore(options: { preparedStatements?: boolean } = {}): Promise<Store> {
  pool = newPool({ max: 1 });
  schema = uniqueSchema('prep');
  const store = postgresStore({ pool, schema, notify: false, ...options });
  await store.init();
  return store;
}

async function createdRunId(store: Store): Promise<string> {
  const result = await store.createRun({ run: newRun(), now: T0, rejectIfActive: false });
  return result.run.id;
}

const preparedNames = async (): Promise<string[]> =>
  (await pool.query(`SELECT name FROM pg_prepared_statements WHERE name LIKE 'cronkeeper_%'`)).rows.map(
    (row: { name: string }) => row.name,
  );

describe.skipIf(!pgAvailable)('prepared statements', () => {
  afterEach(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('prepares each frequent statement once per connection and reuses it', async () => {
    const store = await openStore();
    const id = await createdRunId(store);
    await store.getRun(id);
    const afterFirst = await preparedNames();
    await store.getRun(id);
    await store.createRun({ run: newRun(), now: T0, rejectIfActive: false });
    expect(afterFirst).toHaveLength(2);
    expect(await preparedNames()).toEqual(afterFirst);
  });

  it('sends every statement unnamed with preparedStatements: false', async () => {
    const store = await openStore({ preparedStatements: false });
    await store.getRun(await createdRunId(store));
    expect(await preparedNames()).toEqual([]);
  });

  it('prepares again when the server forgot its statements (DISCARD ALL, a pooler swapping sessions)', async () => {
    const store = await openStore();
    const id = await createdRunId(store);
    await store.getRun(id);
    await pool.query('DISCARD ALL');
    await expect(store.getRun(id)).resolves.toMatchObject({ id });
    expect(await preparedNames()).toHaveLength(1);
  });

  it('prepares again when a migration changed the shape of a table a statement returns', async () => {
    const store = await openStore();
    const id = await createdRunId(store);
    await store.getRun(id);
    // A prepared `SELECT *` now describes rows of the old shape: the server refuses to run it.
    await pool.query(`ALTER TABLE "${schema}".cronkeeper_runs ADD COLUMN added_later text`);
    await expect(store.getRun(id)).resolves.toMatchObject({ id });
    await expect(createdRunId(store)).resolves.toMatch(/^[0-9a-f-]{36}$/);
  });
});
