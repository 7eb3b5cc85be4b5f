import { createHash } from 'node:crypto';
import type { PgPoolLike, PgQueryable } from './driver.js';
import { sqlState } from './query.js';

/** Runs a statement and resolves with its rows: `rows` bound to a handle, prepared or not. */
export type Runner = (text: string, values: unknown[]) => Promise<Record<string, unknown>[]>;

/** invalid_sql_statement_name: the server forgot a statement the client believes prepared. */
const STATEMENT_MISSING = '26000';
/** duplicate_prepared_statement: the session holds a name this connection never prepared there. */
const STATEMENT_EXISTS = '42P05';
/** feature_not_supported, raised when a table changed shape under a prepared `RETURNING *`. */
const RESULT_TYPE_CHANGED = '0A000';

/**
 * The name of each prepared text, and how many times it had to be prepared afresh. Names derive
 * from the text, so every store and connection agrees on them without coordination.
 */
const names = new Map<string, { base: string; generation: number }>();

function nameOf(text: string): string {
  let entry = names.get(text);
  if (!entry) {
    entry = {
      base: `cronkeeper_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`,
      generation: 0,
    };
    names.set(text, entry);
  }
  return entry.generation === 0 ? entry.base : `${entry.base}_${entry.generation}`;
}

/**
 * Whether `error` means the prepared statement itself is unusable, not the query: the server lost
 * it (`DISCARD ALL`, a pooler that swapped the connection) or a migration changed a table it
 * returns. Both are raised before anything executes, so sending the text again is safe.
 */
function isStalePreparation(error: unknown): boolean {
  const state = sqlState(error);
  if (state === STATEMENT_MISSING) return true;
  return (
    state === RESULT_TYPE_CHANGED &&
    /cached plan must not change result type/i.test((error as { message?: string }).message ?? '')
  );
}

/** A runner that sends every text as-is (what a store bound to the caller's client uses). */
export function plainRunner(db: PgQueryable): Runner {
  return async (text, values) => (await db.query(text, values)).rows;
}

/**
 * Whether `error` shows the pool's connections do not keep a session of their own: a name this
 * connection never prepared already exists in the session it landed on. Only a pooler that hands
 * server sessions from client to client between transactions (PgBouncer in transaction mode before
 * 1.21, or without `max_prepared_statements`) does that. Raised at Parse, before anything runs.
 */
function isSharedSession(error: unknown): boolean {
  return sqlState(error) === STATEMENT_EXISTS;
}

/** The warning given once when a prepared runner falls back to unnamed statements. */
export function sharedSessionWarning(cause: unknown): Error {
  return new Error(
    'prepared statements do not stay on the connections of this pool (PostgreSQL answered: ' +
      `${(cause as { message?: string }).message ?? String(cause)}), as behind PgBouncer in transaction mode ` +
      'before 1.21: statements are sent unnamed from now on. Set preparedStatements: false to skip this detection.',
    { cause },
  );
}

/**
 * A runner that sends each text as a named prepared statement. When a connection's copy went
 * stale, the text is prepared again under a new name (connections that still hold the old one
 * keep using theirs until it fails the same way), once per call. When the pool turns out to share
 * sessions between connections, the call is sent again unnamed, and so is every later one;
 * `onFallback` hears about it once. Both errors are raised before anything executes.
 */
export function preparedRunner(pool: PgPoolLike, onFallback: (error: Error) => void): Runner {
  let named = true;
  const fallBack = (error: unknown) => {
    if (!named) return;
    named = false;
    onFallback(sharedSessionWarning(error));
  };
  const unnamed = plainRunner(pool);
  return async (text, values) => {
    if (!named) return unnamed(text, values);
    try {
      return (await pool.query({ name: nameOf(text), text, values })).rows;
    } catch (error) {
      if (isSharedSession(error)) fallBack(error);
      else if (!isStalePreparation(error)) throw error;
      else {
        const entry = names.get(text);
        if (entry) entry.generation++;
        try {
          return (await pool.query({ name: nameOf(text), text, values })).rows;
        } catch (again) {
          if (!isSharedSession(again) && !isStalePreparation(again)) throw again;
          // Prepared afresh and still not found (or found someone else's): sessions are shared.
          fallBack(again);
        }
      }
      return unnamed(text, values);
    }
  };
}
