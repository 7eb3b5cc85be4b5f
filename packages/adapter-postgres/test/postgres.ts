import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the suites use: CRONKEEPER_PG_URL, or the local default (trust auth). */
export const PG_URL = process.env.CRONKEEPER_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';

// test/services.setup.ts probes the server once per test run, announces any skip in one line and
// passes the answer down; with CRONKEEPER_*_URL set the suites must run and fail if it is down.
/** Whether the PostgreSQL suites run in this process. */
export const pgAvailable: boolean = process.env.CRONKEEPER_PG_AVAILABLE !== '0';

/** A new pool on the test server; the caller ends it. `applicationName` marks its sessions. */
export function newPool(options: { applicationName?: string; max?: number } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: PG_URL,
    max: options.max ?? 4,
    application_name: options.applicationName ?? 'cronkeeper-test',
  });
  // An idle client losing its connection is reported here; the next query gets a fresh one.
  pool.on('error', () => {});
  return pool;
}

/** A schema name no other test file uses. */
export function uniqueSchema(label: string): string {
  return `ck_test_${label}_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
}

/** Drop a schema this test file created (never anything else). */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  if (!schema.startsWith('ck_test_')) throw new Error(`refusing to drop ${schema}: not a test schema`);
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
