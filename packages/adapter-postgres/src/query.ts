import { type TenantIds, ValidationError } from '@cronkeeper/core';
import type { PgQueryable } from './driver.js';

// Lower case only: the ids this store makes are, and the uuid type would also match an id in
// upper case, which every other store treats as another id.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `id` could be one of ours: anything else is simply not found (never a cast error). */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}

/** Builds a WHERE clause with positional parameters, so every value travels as a parameter. */
export class Conditions {
  readonly values: unknown[];
  readonly #parts: string[] = [];

  constructor(values: unknown[] = []) {
    this.values = values;
  }

  /** A placeholder (`$n`) for `value`. */
  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /** Add a condition (its values already placed with {@link param}). */
  add(sql: string): this {
    this.#parts.push(sql);
    return this;
  }

  /** `tenant_id` in `tenantIds` (null meaning global); nothing added when absent. */
  tenants(tenantIds: TenantIds | undefined, column = 'tenant_id'): this {
    if (tenantIds === undefined) return this;
    const named = tenantIds.filter((id): id is string => id !== null);
    const global = tenantIds.includes(null);
    if (named.length === 0 && !global) return this.add('false');
    const parts: string[] = [];
    if (named.length > 0) parts.push(`${column} = ANY(${this.param(named)}::text[])`);
    if (global) parts.push(`${column} IS NULL`);
    return this.add(`(${parts.join(' OR ')})`);
  }

  /** `WHERE …` or an empty string. */
  where(): string {
    return this.#parts.length === 0 ? '' : `WHERE ${this.#parts.join(' AND ')}`;
  }
}

/** Run `text` and return its rows. */
export async function rows(
  db: PgQueryable,
  text: string,
  values?: unknown[],
): Promise<Record<string, unknown>[]> {
  return (await db.query(text, values)).rows;
}

/** PostgreSQL's SQLSTATE of a driver error, if any. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** deadlock_detected */
export const DEADLOCK_DETECTED = '40P01';

/** unique_violation */
export const UNIQUE_VIOLATION = '23505';

/** SQLSTATE class 22, data exception: a value the database cannot hold (U+0000, a date out of its range). */
const DATA_EXCEPTION = /^22/;

/**
 * `operation`, with a data exception answered as the caller's bad input (`ValidationError`) rather
 * than a store failure: core validates values first, so this is the last line, not the first.
 */
export async function refusingBadData<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    const state = sqlState(error);
    if (state === undefined || !DATA_EXCEPTION.test(state)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ValidationError(`the database cannot store a value given: ${reason} (SQLSTATE ${state})`, {
      cause: error,
    });
  }
}
