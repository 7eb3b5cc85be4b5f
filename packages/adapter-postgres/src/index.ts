import type { PostgresStoreOptions } from './options.js';
import { PgStore, type PostgresStore } from './postgres-store.js';

export type {
  PgNotificationLike,
  PgPoolClientLike,
  PgPoolLike,
  PgQueryable,
  PgResultLike,
} from './driver.js';
export { migrationSql } from './migrate.js';
export type { MigrationOptions, PostgresStoreOptions } from './options.js';
export { postgresStoreOptionsSchema } from './options.js';
export type { PostgresStore } from './postgres-store.js';

/**
 * A Store on PostgreSQL through your `pg` Pool: jobs and runs in two tables with partial indexes on
 * what is due, claims with `FOR UPDATE SKIP LOCKED`, exclusivity enforced by a unique index, and
 * wake-ups over LISTEN/NOTIFY. `init()` applies the migrations. Throws `ValidationError` on bad
 * options.
 */
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  return new PgStore(options);
}
