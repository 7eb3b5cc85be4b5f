import type {
  ExecutorSummary,
  RateLimitSpec,
  RateLimitVerdict,
  RunCountRow,
  RunStatus,
  TenantIds,
} from '@cronkeeper/core';
import type { Target } from './claim-path.js';
import { decodeRun } from './codec.js';
import { Conditions, rows } from './query.js';

/** Terminal runs per UTC day and status, grouped by the database. */
export async function countRuns(
  { db, n }: Target,
  query: { tenantIds?: TenantIds; from: Date; to: Date },
): Promise<RunCountRow[]> {
  const where = new Conditions([query.from, query.to])
    .add(`status IN ('succeeded', 'failed', 'cancelled', 'skipped')`)
    .add('finished_at >= $1')
    .add('finished_at < $2')
    .tenants(query.tenantIds);
  const found = await rows(
    db,
    `SELECT to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, status, count(*)::int AS count
     FROM ${n.runs} ${where.where()}
     GROUP BY 1, 2 ORDER BY 1, 2`,
    where.values,
  );
  return found.map((row) => ({
    day: String(row.day),
    status: row.status as RunStatus,
    count: Number(row.count),
  }));
}

export async function countActive(
  { db, n }: Target,
  query: { tenantIds?: TenantIds; concurrencyKey?: string },
): Promise<{ pending: number; running: number }> {
  const where = new Conditions().add(`status IN ('pending', 'running')`).tenants(query.tenantIds);
  if (query.concurrencyKey !== undefined) where.add(`concurrency_key = ${where.param(query.concurrencyKey)}`);
  const [row] = await rows(
    db,
    `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
            count(*) FILTER (WHERE status = 'running')::int AS running
     FROM ${n.runs} ${where.where()}`,
    where.values,
  );
  return { pending: Number(row?.pending ?? 0), running: Number(row?.running ?? 0) };
}

/** Counts per executor and, through the (executor, finished_at) index, each one's last finished run. */
export async function executorSummaries(
  { db, n }: Target,
  query: { tenantIds?: TenantIds },
): Promise<ExecutorSummary[]> {
  const where = new Conditions().tenants(query.tenantIds);
  const lastWhere = new Conditions(where.values)
    .add('l.executor = s.executor')
    .add(`l.status IN ('succeeded', 'failed', 'cancelled')`)
    .add('l.finished_at IS NOT NULL')
    .tenants(query.tenantIds, 'l.tenant_id');
  const found = await rows(
    db,
    `SELECT s.*, (SELECT to_jsonb(l) FROM ${n.runs} AS l ${lastWhere.where()}
                  ORDER BY l.finished_at DESC, l.id DESC LIMIT 1) AS last_run
     FROM (
       SELECT executor,
              count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'cancelled') AND finished_at IS NOT NULL)::int AS run_count,
              count(*) FILTER (WHERE status = 'failed' AND finished_at IS NOT NULL)::int AS error_count,
              count(*) FILTER (WHERE status = 'running')::int AS running
       FROM ${n.runs} ${where.where()}
       GROUP BY executor
     ) AS s
     ORDER BY s.executor COLLATE "C"`,
    lastWhere.values,
  );
  return found.map((row) => ({
    executor: String(row.executor),
    runCount: Number(row.run_count),
    errorCount: Number(row.error_count),
    running: Number(row.running),
    lastRun: row.last_run ? decodeRun(row.last_run as Record<string, unknown>) : null,
  }));
}

export async function nextJobRunAt(
  { db, n }: Target,
  query: { tenantIds?: TenantIds },
): Promise<Date | null> {
  const where = new Conditions().add('enabled').add('next_run_at IS NOT NULL').tenants(query.tenantIds);
  const [row] = await rows(
    db,
    `SELECT min(next_run_at) AS next FROM ${n.jobs} ${where.where()}`,
    where.values,
  );
  return row?.next ? new Date(row.next as Date) : null;
}

/**
 * Several windows in one statement, all counted or none: the keys' rows are locked in key order
 * (so concurrent callers queue instead of deadlocking), each window is pruned, and the hit is
 * appended to every row only when each has room. A key seen for the first time gets its row
 * first, then the statement runs again.
 */
export async function consumeRateLimits(
  { db, n }: Target,
  input: { limits: readonly RateLimitSpec[]; now: Date },
): Promise<RateLimitVerdict> {
  if (input.limits.length === 0) return { allowed: true, retryAfterMs: 0, deniedKey: null };
  const now = input.now.getTime();
  const keys = input.limits.map((limit) => limit.key);
  const values = [
    keys,
    input.limits.map((limit) => limit.limit),
    input.limits.map((limit) => limit.windowMs),
    now,
  ];
  const decide = () =>
    rows(
      db,
      `WITH input AS (
         SELECT key, lim, win, ord
         FROM unnest($1::text[], $2::float8[], $3::float8[]) WITH ORDINALITY AS i(key, lim, win, ord)
       ), locked AS (
         SELECT r.key, r.hits FROM ${n.rateLimits} AS r WHERE r.key = ANY($1::text[]) ORDER BY r.key FOR UPDATE
       ), windowed AS (
         SELECT i.ord, i.key, i.lim, i.win,
                ARRAY(SELECT h FROM unnest(l.hits) AS h WHERE h > $4::bigint - i.win ORDER BY h) AS kept
         FROM input AS i JOIN locked AS l ON l.key = i.key
       ), decision AS (
         SELECT count(*) = cardinality($1::text[]) AS complete,
                coalesce(bool_and(cardinality(kept) < lim), true) AS room
         FROM windowed
       ), counted AS (
         UPDATE ${n.rateLimits} AS r
         SET hits = CASE WHEN d.room THEN w.kept || $4::bigint ELSE w.kept END, allowed = d.room
         FROM windowed AS w, decision AS d
         WHERE r.key = w.key AND d.complete
         RETURNING r.key
       )
       SELECT w.ord, w.lim, w.win, w.kept, d.complete, d.room
       FROM windowed AS w, decision AS d ORDER BY w.ord`,
      values,
    );
  let found = await decide();
  if (found.length < keys.length) {
    await db.query(
      `INSERT INTO ${n.rateLimits} (key, hits, allowed)
       SELECT k, '{}'::bigint[], false FROM unnest($1::text[]) AS k ON CONFLICT (key) DO NOTHING`,
      [keys],
    );
    found = await decide();
  }
  if (found[0]?.complete !== true) throw new Error('consumeRateLimits: a rate-limit row is missing');
  if (found[0]?.room === true) return { allowed: true, retryAfterMs: 0, deniedKey: null };
  for (const row of found) {
    const limit = Number(row.lim);
    const windowMs = Number(row.win);
    const kept = (row.kept as (string | number)[]).map(Number);
    if (kept.length < limit) continue;
    const key = keys[Number(row.ord) - 1] as string;
    // Enough hits must leave the window for one more to fit: the one `limit` places from the end.
    const blocking = limit <= 0 ? now : (kept[kept.length - limit] as number);
    return { allowed: false, retryAfterMs: Math.max(0, blocking + windowMs - now), deniedKey: key };
  }
  throw new Error('consumeRateLimits: refused without a full window');
}
