import { createHash } from 'node:crypto';
import type { PgPoolLike, PgQueryable } from './driver.js';
import { sqlState } from './query.js';

/** Runs a statement and resolves with its rows: `rows` bound to a handle, prepared or not. */
export type Runner = (text: string, values: unknown[]) => Promise<Record<string, unknown>[]>;

/** invalid_sql_statement_name: the server forgot a statement the client believes prepared. */
const STATEMENT_MISSING = '26000';
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
 * A runner that sends each text as a named prepared statement. When a connection's copy went
 * stale, the text is prepared again under a new name (connections that still hold the old one
 * keep using theirs until it fails the same way), once per call.
 */
export function preparedRunner(pool: PgPoolLike): Runner {
  return async (text, values) => {
    try {
      return (await pool.query({ name: nameOf(text), text, values })).rows;
    } catch (error) {
      if (!isStalePreparation(error)) throw error;
      const entry = names.get(text);
      if (entry) entry.generation++;
      return (await pool.query({ name: nameOf(text), text, values })).rows;
    }
  };
}
