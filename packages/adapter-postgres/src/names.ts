import { createHash } from 'node:crypto';

/** PostgreSQL truncates identifiers (and channel names) past this many bytes. */
const MAX_IDENTIFIER_BYTES = 63;

/** Quote an identifier for SQL text (the only way names enter a query: values are always parameters). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The advisory-lock key of a concurrency key (`key` is an SQL expression): claims, and creating a
 * run that must not start beside an active one, take it so that one key is decided by one
 * transaction at a time. Names in it were validated as plain identifiers.
 */
export function keyLockSql(n: SqlNames, key: string): string {
  const prefix = `cronkeeper:${n.lockNamespace}:`.replaceAll("'", "''");
  return `hashtextextended('${prefix}' || ${key}, 0)`;
}

/** The schema-qualified, quoted names of everything the store creates, for one schema and prefix. */
export interface SqlNames {
  /** Schema name, unquoted. */
  readonly schema: string;
  /** Table prefix, unquoted. */
  readonly prefix: string;
  /** Quoted schema. */
  readonly schemaSql: string;
  /** `"schema"."<prefix>jobs"` */
  readonly jobs: string;
  /** `"schema"."<prefix>runs"` */
  readonly runs: string;
  /** `"schema"."<prefix>rate_limits"` */
  readonly rateLimits: string;
  /** `"schema"."<prefix>audit"` */
  readonly audit: string;
  /** `"schema"."<prefix>migrations"` */
  readonly migrations: string;
  /** `"schema"."<prefix>claim_runs"` (a function). */
  readonly claimRuns: string;
  /** `"schema"."<prefix>create_run"` (a function). */
  readonly createRun: string;
  /** `"schema"."<prefix>end_tasks"` (a trigger function). */
  readonly endTasks: string;
  /** Quoted name of an index or constraint: `"<prefix><suffix>"`. */
  index(suffix: string): string;
  /** The NOTIFY channel of this schema and prefix. */
  readonly channel: string;
  /** Namespace string mixed into advisory lock keys so two installations never share a lock. */
  readonly lockNamespace: string;
}

/** Names for `schema` and `prefix` (both already validated as plain identifiers). */
export function sqlNames(schema: string, prefix: string): SqlNames {
  const schemaSql = quoteIdent(schema);
  const table = (name: string) => `${schemaSql}.${quoteIdent(`${prefix}${name}`)}`;
  const readable = `${schema}.${prefix}events`;
  const channel =
    Buffer.byteLength(readable) <= MAX_IDENTIFIER_BYTES
      ? readable
      : `cronkeeper_${createHash('sha256').update(readable).digest('hex').slice(0, 32)}`;
  return {
    schema,
    prefix,
    schemaSql,
    jobs: table('jobs'),
    runs: table('runs'),
    rateLimits: table('rate_limits'),
    audit: table('audit'),
    migrations: table('migrations'),
    claimRuns: table('claim_runs'),
    createRun: table('create_run'),
    endTasks: table('end_tasks'),
    index: (suffix) => quoteIdent(`${prefix}${suffix}`),
    channel,
    lockNamespace: `${schema}.${prefix}`,
  };
}
