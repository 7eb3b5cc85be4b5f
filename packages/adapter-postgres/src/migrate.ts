import type { PgPoolClientLike, PgPoolLike } from './driver.js';
import { LATEST_VERSION, MIGRATIONS } from './migrations/index.js';
import { type SqlNames, sqlNames } from './names.js';
import { type MigrationOptions, migrationOptionsSchema, parseWith } from './options.js';
import { sqlState } from './query.js';

/** The table recording which migrations ran (created before any migration). */
function migrationsTableSql(n: SqlNames): string {
  return `
CREATE TABLE IF NOT EXISTS ${n.migrations} (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);`;
}

function recordSql(n: SqlNames, version: number, name: string): string {
  return `INSERT INTO ${n.migrations} (version, name) VALUES (${version}, '${name}') ON CONFLICT (version) DO NOTHING;`;
}

/**
 * The whole schema as one SQL script, for teams that run migrations with their own tool: apply it
 * (it is idempotent) and create the store with `migrate: false`. It records the versions it
 * applies, so `init()` sees the schema is current. Throws `ValidationError` on bad options.
 */
export function migrationSql(options: MigrationOptions = {}): string {
  const parsed = parseWith(migrationOptionsSchema, options, 'migrationSql');
  const n = sqlNames(parsed.schema, parsed.tablePrefix);
  const steps = MIGRATIONS.map(
    (migration) =>
      `-- migration ${migration.version}: ${migration.name}\n${migration.sql(n).trim()}\n${recordSql(n, migration.version, migration.name)}`,
  );
  const header = [
    `-- Cronkeeper schema for ${n.schema}.${n.prefix}*`,
    `CREATE SCHEMA IF NOT EXISTS ${n.schemaSql};`,
  ];
  return `${[header.join('\n'), migrationsTableSql(n).trim(), ...steps].join('\n\n')}\n`;
}

async function inTransaction(client: PgPoolClientLike, work: () => Promise<void>): Promise<void> {
  await client.query('BEGIN');
  try {
    await work();
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      // The connection is broken; the error that matters is the one rethrown below.
    });
    throw error;
  }
}

/**
 * Bring the schema to the latest version. Runs in one transaction holding an advisory lock keyed
 * by schema, so instances starting together apply each migration once and the others
 * wait, then find nothing left to do.
 */
export async function applyMigrations(pool: PgPoolLike, n: SqlNames): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client whose connection dies between queries emits 'error'; unheard, that
  // would crash the process. The query in flight rejects anyway, so noting it is enough.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await inTransaction(client, async () => {
      // One lock per schema: installations under other prefixes may be creating the schema too.
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `cronkeeper:migrate:${n.schema}`,
      ]);
      const existing = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [n.schema]);
      // CREATE SCHEMA needs the CREATE privilege on the database even when the schema exists.
      if (existing.rows.length === 0) await client.query(`CREATE SCHEMA ${n.schemaSql}`);
      await client.query(migrationsTableSql(n));
      const { rows } = await client.query(`SELECT version FROM ${n.migrations}`);
      const applied = new Set(rows.map((row) => Number(row.version)));
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        await client.query(migration.sql(n));
        await client.query(recordSql(n, migration.version, migration.name));
      }
    });
  } catch (error) {
    // An error without an SQLSTATE is the connection's, not the SQL's: do not reuse that client.
    if (sqlState(error) === undefined) broken ??= error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(broken);
    client.removeListener('error', onError);
  }
}

/** With `migrate: false`: check that whoever runs migrations brought the schema up to date. */
export async function checkMigrations(pool: PgPoolLike, n: SqlNames): Promise<void> {
  const { rows } = await pool
    .query(`SELECT coalesce(max(version), 0) AS version FROM ${n.migrations}`)
    .catch((error: unknown) => {
      throw new Error(
        `cronkeeper tables not found in schema "${n.schema}" (prefix "${n.prefix}"): apply migrationSql() or create the store with migrate: true`,
        { cause: error },
      );
    });
  const version = Number(rows[0]?.version ?? 0);
  if (version < LATEST_VERSION)
    throw new Error(
      `cronkeeper schema "${n.schema}" (prefix "${n.prefix}") is at version ${version}, this store needs ${LATEST_VERSION}: apply migrationSql() or create the store with migrate: true`,
    );
}
