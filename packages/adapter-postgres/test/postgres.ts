import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the suites use: CRONKEEPER_PG_URL, or the local default (trust auth). */
export const PG_URL = process.env.CRONKEEPER_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';

async function probe(): Promise<boolean> {
  // With the variable set the suites must run, and fail loudly if the server is down.
  if (process.env.CRONKEEPER_PG_URL) return true;
  // Already probed (and any skip announced) once for the whole run by test/services.setup.ts.
  const probed = process.env.CRONKEEPER_PG_AVAILABLE;
  if (probed !== undefined) return probed === '1';
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Whether the PostgreSQL suites run in this process (probed once per test file). */
export const pgAvailable: boolean = await probe();

/** The one line saying the suites were skipped; printed by the contract suite's file only. */
export function announceSkipped(): void {
  if (pgAvailable || process.env.CRONKEEPER_SERVICES_PROBED) return;
  console.log(
    `[cronkeeper] PostgreSQL not reachable at ${new URL(PG_URL).host}: adapter-postgres suites skipped (set CRONKEEPER_PG_URL to require them)`,
  );
}

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
