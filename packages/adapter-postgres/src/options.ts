import { ValidationError } from '@cronkeeper/core';
import { z } from 'zod';
import type { PgPoolLike } from './driver.js';

const isFunction = (value: unknown): boolean => typeof value === 'function';

const poolSchema = z.custom<PgPoolLike>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    isFunction((value as Record<string, unknown>).query) &&
    isFunction((value as Record<string, unknown>).connect),
  { message: 'must be a pg Pool (an object with query() and connect())' },
);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Options of {@link postgresStore}, validated when the store is created. */
export const postgresStoreOptionsSchema = z.strictObject({
  /**
   * Your `pg` Pool. The store runs its queries on it, borrows one client for LISTEN (while
   * subscribed) and one per `init()`, and never ends the pool: closing it stays your job.
   */
  pool: poolSchema,
  /**
   * Schema holding the tables; created by `init()` when missing.
   * @default 'public'
   */
  schema: z
    .string()
    .max(50, 'must be at most 50 characters')
    .regex(IDENTIFIER, 'must be a plain identifier (letters, digits, underscores; not starting with a digit)')
    .default('public'),
  /**
   * Prefix of every table, index and function name, so several installations can share a schema.
   * @default 'cronkeeper_'
   */
  tablePrefix: z
    .string()
    .max(30, 'must be at most 30 characters (index names must fit in 63 bytes)')
    .regex(IDENTIFIER, 'must be a plain identifier (letters, digits, underscores; not starting with a digit)')
    .default('cronkeeper_'),
  /**
   * Whether `init()` applies pending migrations (under an advisory lock). Set `false` when you run
   * `migrationSql()` yourself; `init()` then only checks the schema is up to date.
   * @default true
   */
  migrate: z.boolean().default(true),
  /**
   * Whether instances wake each other with LISTEN/NOTIFY (`capabilities.subscribe`). Behind a
   * transaction-mode pooler (PgBouncer), LISTEN hears nothing: the store notices, warns once
   * through `onError` and polls; pass `listenPool` to keep wake-ups, or `false` to poll without
   * the check.
   * @default true
   */
  notify: z.boolean().default(true),
  /**
   * A pool that connects to PostgreSQL directly (not through a transaction-mode pooler), used only
   * to hold the LISTEN connection: the store checks out one client from it while subscribed, and
   * never ends it. Everything else, NOTIFY included, goes through `pool`.
   * @default pool
   */
  listenPool: poolSchema.optional(),
  /**
   * Whether the frequent statements (claiming, firing, finishing, notifying) are sent as named
   * prepared statements, so each connection parses and plans them once. Behind a pooler that
   * cannot keep them (PgBouncer in transaction mode before 1.21) the store notices on the first
   * statement that meets another client's, warns once through `onError` and sends them unnamed;
   * set `false` to skip that.
   * @default true
   */
  preparedStatements: z.boolean().default(true),
  /**
   * Called with errors of the LISTEN connection (the store reconnects by itself, and the scheduler
   * keeps polling meanwhile), with notifications that could not be read, and with the one-time
   * warnings that a pooler keeps LISTEN or prepared statements from working.
   * @default writes one line per error with console.warn
   */
  onError: z.custom<(error: Error) => void>(isFunction, { message: 'must be a function' }).optional(),
});

/** Options of {@link postgresStore}. */
export type PostgresStoreOptions = z.input<typeof postgresStoreOptionsSchema>;

/** Parsed options. */
export type ParsedPostgresStoreOptions = z.output<typeof postgresStoreOptionsSchema>;

/** `value` parsed by `schema`, or a `ValidationError` naming each offending field. */
export function parseWith<S extends z.ZodObject>(schema: S, value: unknown, caller: string): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw ValidationError.fromOptions(caller, result.error, { known: Object.keys(schema.shape) });
}

/** Parsed options of `postgresStore`, or a `ValidationError` naming each offending field. */
export function parsePostgresStoreOptions(options: unknown): ParsedPostgresStoreOptions {
  const parsed = parseWith(postgresStoreOptionsSchema, options, 'postgresStore');
  if (parsed.listenPool && !parsed.notify)
    throw ValidationError.field(
      'listenPool',
      'is only used for LISTEN, which notify: false turns off: drop one of the two options',
    );
  return parsed;
}

/** The options `migrationSql()` takes: where the tables go. */
export const migrationOptionsSchema = postgresStoreOptionsSchema.pick({ schema: true, tablePrefix: true });

/** Options of {@link migrationSql}. */
export type MigrationOptions = z.input<typeof migrationOptionsSchema>;
