import {
  type AuditEntry,
  type AuditFilter,
  type AuditPage,
  decodeAuditCursor,
  encodeAuditCursor,
  type NewAuditEntry,
  type TenantIds,
  ValidationError,
} from '@cronkeeper/core';
import type { Target } from './claim-path.js';
import type { SqlNames } from './names.js';
import { Conditions, rows } from './query.js';

/** Audit entries deleted per statement by `pruneAudit`. */
const PRUNE_BATCH = 5_000;
const SEQUENCE = /^\d{1,19}$/;
/** The largest `bigint`: a 19-digit id above it is no entry's, and PostgreSQL refuses to cast it. */
const MAX_SEQUENCE = 9_223_372_036_854_775_807n;

/** An entry as one JSON parameter, for {@link insertAuditSql}. */
export function encodeAudit(entry: NewAuditEntry): string {
  return JSON.stringify(auditRow(entry));
}

/** An entry as a JSON row object keyed by column (see {@link encodeAudit}), for statements that carry many. */
export function auditRow(entry: NewAuditEntry): Record<string, unknown> {
  return {
    at: entry.at.toISOString(),
    actor: entry.actor,
    action: entry.action,
    job: entry.job,
    tenant_id: entry.tenantId,
    before: entry.before,
    after: entry.after,
    note: entry.note,
  };
}

/**
 * A data-modifying CTE body inserting the entry in `param` (see {@link encodeAudit}) when
 * `condition` holds, for a statement whose other CTEs make the change it records: both commit or
 * neither does. `runId`, when given, is an SQL expression added to `after` as `runId`.
 */
export function insertAuditSql(n: SqlNames, param: string, condition: string, runId?: string): string {
  const after =
    runId === undefined
      ? 'a.after'
      : `coalesce(a.after, '{}'::jsonb) || jsonb_build_object('runId', ${runId})`;
  return `INSERT INTO ${n.audit} (at, actor, action, job, tenant_id, before, after, note)
       SELECT a.at, a.actor, a.action, a.job, a.tenant_id, a.before, ${after}, a.note
       FROM jsonb_to_record(${param}::jsonb) AS a(at timestamptz, actor text, action text, job text,
         tenant_id text, before jsonb, after jsonb, note text)
       WHERE ${condition}`;
}

function decodeAudit(row: Record<string, unknown>): AuditEntry {
  return {
    id: String(row.seq),
    at: new Date(row.at as Date),
    actor: (row.actor as string | null) ?? null,
    action: row.action as AuditEntry['action'],
    job: (row.job as string | null) ?? null,
    tenantId: (row.tenant_id as string | null) ?? null,
    before: (row.before as AuditEntry['before']) ?? null,
    after: (row.after as AuditEntry['after']) ?? null,
    note: (row.note as string | null) ?? null,
  };
}

/** Keyset paging on (at, seq), newest first. */
export async function listAudit({ db, n }: Target, filter: AuditFilter): Promise<AuditPage> {
  const where = new Conditions().tenants(filter.tenantIds);
  if (filter.job !== undefined) where.add(`job = ${where.param(filter.job)}`);
  if (filter.since) where.add(`at >= ${where.param(filter.since)}`);
  if (filter.cursor) {
    const after = decodeAuditCursor(filter.cursor);
    if (!SEQUENCE.test(after.id) || BigInt(after.id) > MAX_SEQUENCE)
      throw ValidationError.field('cursor', 'is not a cursor returned by a previous page');
    where.add(
      `(at, seq) < (${where.param(new Date(after.at))}::timestamptz, ${where.param(after.id)}::bigint)`,
    );
  }
  const limit = Math.max(0, filter.limit);
  const found = await rows(
    db,
    `SELECT * FROM ${n.audit} ${where.where()} ORDER BY at DESC, seq DESC LIMIT ${where.param(limit + 1)}`,
    where.values,
  );
  const items = found.slice(0, limit).map(decodeAudit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor:
      found.length > limit && last ? encodeAuditCursor({ at: last.at.getTime(), id: last.id }) : null,
  };
}

export async function pruneAudit(
  { db, n }: Target,
  input: { before: Date; tenantIds?: TenantIds },
): Promise<number> {
  const where = new Conditions([input.before]).add('at < $1').tenants(input.tenantIds);
  let total = 0;
  for (;;) {
    const result = await db.query(
      `DELETE FROM ${n.audit} WHERE seq IN (SELECT seq FROM ${n.audit} ${where.where()} LIMIT ${PRUNE_BATCH})`,
      where.values,
    );
    const deleted = result.rowCount ?? 0;
    total += deleted;
    if (deleted < PRUNE_BATCH) return total;
  }
}
