import { randomUUID } from 'node:crypto';
import type {
  ClaimResult,
  CreateRunInput,
  CreateRunResult,
  FireAndClaimInput,
  FireAndClaimResult,
  FireSlotInput,
  FireSlotResult,
  Job,
  Run,
  RunLogLine,
  RunProgress,
} from '@cronkeeper/core';
import { encodeAudit, insertAuditSql } from './audit.js';
import { decodeJob, decodeRun, encodeRunRow } from './codec.js';
import type { PgQueryable } from './driver.js';
import type { SqlNames } from './names.js';
import type { Runner } from './prepared.js';
import { isUuid } from './query.js';

/** Where the claim path runs: a queryable (the pool, or the caller's transaction) and the names. */
export interface Target {
  db: PgQueryable;
  /** Runs the claim path's statements on `db`: prepared through a pool, as-is on a bound client. */
  sql: Runner;
  n: SqlNames;
  /**
   * Set on a store bound to the caller's transaction: `createRun` then sends a wake-up on this
   * channel in its own statement, so it is delivered at commit (and never after a rollback).
   */
  wakeChannel?: string;
  /**
   * Set on a store that notifies: `createRun` announces the run it created on this channel, and a
   * finish given `announceAs` the run it finished.
   */
  announceChannel?: string;
}

/** The wake-up a bound store's `createRun` sends with the run it created. */
export const TRANSACTION_WAKE = JSON.stringify({ type: 'wake', origin: 'cronkeeper-postgres-transaction' });

const json = (value: unknown): string | null =>
  value === null || value === undefined ? null : JSON.stringify(value);

/** Milliseconds between a run's start and `$now`, computed where both live. */
export const durationSql = (now: string) =>
  `CASE WHEN r.started_at IS NULL THEN NULL ELSE greatest(0, round(extract(epoch FROM (${now}::timestamptz - r.started_at)) * 1000))::bigint END`;

/** The hot-path reads, shared with the test that checks their plans use the indexes. */
export const HOT_QUERIES = {
  /** $1 now, $2 limit. */
  dueJobs: (n: SqlNames) =>
    `SELECT * FROM ${n.jobs} WHERE enabled AND next_run_at <= $1 ORDER BY next_run_at, id LIMIT $2`,
  /** $1 now. */
  nextWake: (n: SqlNames) =>
    `SELECT least(
       (SELECT min(next_run_at) FROM ${n.jobs} WHERE enabled AND next_run_at > $1),
       (SELECT min(run_at) FROM ${n.runs} WHERE status = 'pending' AND run_at > $1)
     ) AS wake_at`,
  /** $1 now, $2 limit. */
  expiredLeases: (n: SqlNames) =>
    `SELECT * FROM ${n.runs} WHERE status = 'running' AND lease_until < $1 ORDER BY lease_until, id LIMIT $2`,
};

export async function findDueJobs({ sql, n }: Target, query: { now: Date; limit: number }): Promise<Job[]> {
  if (query.limit <= 0) return [];
  const found = await sql(HOT_QUERIES.dueJobs(n), [query.now, query.limit]);
  return found.map(decodeJob);
}

export async function nextWakeAt({ sql, n }: Target, query: { now: Date }): Promise<Date | null> {
  const [row] = await sql(HOT_QUERIES.nextWake(n), [query.now]);
  return row?.wake_at ? new Date(row.wake_at as Date) : null;
}

/**
 * One statement for a batch of jobs: lock each job only if its `next_run_at` still is the expected
 * one (SKIP LOCKED, so a job another instance is firing at this moment is left to it instead of
 * waited for), advance those, and insert their runs, deduplicated by their unique key. Jobs are
 * locked in the caller's order, so instances that start at different jobs rarely meet.
 */
export async function fireSlots(target: Target, inputs: FireSlotInput[]): Promise<FireSlotResult[]> {
  const statement = fireStatement(target.n, inputs);
  if (!statement) return inputs.map(() => ({ advanced: false, created: [] }));
  const [row] = await target.sql(
    `WITH ${statement.ctes}
     SELECT (SELECT coalesce(jsonb_agg(ord), '[]'::jsonb) FROM advanced) AS advanced,
            (SELECT coalesce(jsonb_agg(to_jsonb(c)), '[]'::jsonb) FROM created AS c) AS created`,
    statement.values,
  );
  return statement.results(
    (row?.advanced ?? []) as number[],
    (row?.created ?? []) as Record<string, unknown>[],
  );
}

/**
 * fireSlots, then the claim function, in one statement: the claim's arguments depend on the count
 * of runs created, which makes the firing CTEs complete before the (volatile) function runs, and
 * the function's own queries see the runs they inserted, as finishAndClaim's claim sees its finishes.
 */
export async function fireAndClaim(target: Target, input: FireAndClaimInput): Promise<FireAndClaimResult> {
  const { firings, claim } = input;
  const statement = fireStatement(target.n, firings);
  if (!statement)
    return {
      fired: firings.map(() => ({ advanced: false, created: [] })),
      ...(await claimRuns(target, claim)),
    };
  const values = [...statement.values, claim.workerId, claim.now, claim.limit, claim.leaseMs];
  const found = (await target.sql(
    `WITH ${statement.ctes},
     counted AS (SELECT (SELECT count(*) FROM created)::int AS n)
     SELECT 'advanced' AS kind, to_jsonb(a.ord) AS row FROM advanced AS a
     UNION ALL
     SELECT 'created', to_jsonb(c) FROM created AS c
     UNION ALL
     SELECT c.outcome, to_jsonb(c.run) FROM counted
     CROSS JOIN LATERAL ${target.n.claimRuns}($3, $4, greatest($5::int, 0) + 0 * counted.n, $6) AS c`,
    values,
  )) as { kind: string; row: unknown }[];
  const advanced: number[] = [];
  const created: Record<string, unknown>[] = [];
  const result: FireAndClaimResult = { fired: [], claimed: [], skipped: [] };
  for (const { kind, row } of found) {
    if (kind === 'advanced') advanced.push(row as number);
    else if (kind === 'created') created.push(row as Record<string, unknown>);
    else
      (kind === 'claimed' ? result.claimed : result.skipped).push(decodeRun(row as Record<string, unknown>));
  }
  result.fired = statement.results(advanced, created);
  return result;
}

/**
 * fireSlots' CTEs (see there; they end in `advanced` and `created`), their two parameters, and how
 * to read their rows back; null when no input names a job that can exist.
 */
function fireStatement(
  n: Target['n'],
  inputs: FireSlotInput[],
): {
  ctes: string;
  values: unknown[];
  results(advanced: number[], created: Record<string, unknown>[]): FireSlotResult[];
} | null {
  const jobs: { ord: number; id: string; expected: Date; next: Date | null }[] = [];
  const runs: { ord: number; payload: Record<string, unknown> }[] = [];
  const ids: string[] = [];
  inputs.forEach((input, ord) => {
    if (!isUuid(input.jobId)) return;
    jobs.push({ ord, id: input.jobId, expected: input.expectedNextRunAt, next: input.nextRunAt });
    for (const run of input.runs) {
      const id = randomUUID();
      ids.push(id);
      runs.push({ ord, payload: encodeRunRow(run, id) });
    }
  });
  if (jobs.length === 0) return null;
  const ctes = `input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(ord int, id uuid, expected timestamptz, next timestamptz)
     ), job AS (
       SELECT j.id, i.ord, i.next FROM input AS i JOIN ${n.jobs} AS j ON j.id = i.id AND j.next_run_at = i.expected
       ORDER BY i.ord
       FOR UPDATE OF j SKIP LOCKED
     ), advanced AS (
       UPDATE ${n.jobs} AS j SET next_run_at = job.next FROM job WHERE j.id = job.id RETURNING job.ord
     ), created AS (
       INSERT INTO ${n.runs}
       SELECT r.* FROM jsonb_to_recordset($2::jsonb) AS e(ord int, payload jsonb)
       CROSS JOIN LATERAL jsonb_populate_record(NULL::${n.runs}, e.payload) AS r
       WHERE e.ord IN (SELECT ord FROM job)
       ON CONFLICT (dedupe_key) DO NOTHING
       RETURNING *
     )`;
  const results = (advanced: number[], createdRows: Record<string, unknown>[]): FireSlotResult[] => {
    const out: FireSlotResult[] = inputs.map(() => ({ advanced: false, created: [] }));
    for (const ord of advanced) (out[ord] as FireSlotResult).advanced = true;
    const created = createdRows.map(decodeRun);
    created.sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
    const ordOfRun = new Map(runs.map(({ ord, payload }) => [payload.id as string, ord]));
    for (const run of created) out[ordOfRun.get(run.id) as number]?.created.push(run);
    return out;
  };
  return { ctes, values: [JSON.stringify(jobs), JSON.stringify(runs)], results };
}

export async function createRun(
  { sql, n, wakeChannel, announceChannel }: Target,
  input: CreateRunInput,
): Promise<CreateRunResult> {
  const values: unknown[] = [
    JSON.stringify(encodeRunRow(input.run, randomUUID())),
    input.now,
    input.rejectIfActive,
  ];
  // The notification leaves with the row, at commit: a listener that hears it finds the run.
  let notice = '';
  if (announceChannel !== undefined && input.announceAs !== undefined) {
    const channel = `$${values.push(announceChannel)}`;
    const origin = `$${values.push(input.announceAs)}::text`;
    notice = `, CASE WHEN c.outcome = 'created' THEN pg_notify(${channel}, json_build_object('type', 'run', 'origin', ${origin}, 'runId', (c.run).id, 'status', (c.run).status, 'tenantId', (c.run).tenant_id)::text) END AS announced`;
  } else if (wakeChannel !== undefined) {
    notice = `, CASE WHEN c.outcome = 'created' THEN pg_notify($${values.push(wakeChannel)}, $${values.push(TRANSACTION_WAKE)}) END AS woke`;
  }
  // With an audit entry, the entry is inserted by the same statement, only if the run was created.
  const text = input.audit
    ? `WITH c AS MATERIALIZED (SELECT * FROM ${n.createRun}($1::jsonb, $2, $3)),
       audited AS (${insertAuditSql(
         n,
         `$${values.push(encodeAudit(input.audit))}`,
         `EXISTS (SELECT 1 FROM c WHERE c.outcome = 'created')`,
         '(SELECT (c.run).id::text FROM c)',
       )})
       SELECT c.outcome, (c.run).*${notice} FROM c`
    : `SELECT c.outcome, (c.run).*${notice} FROM ${n.createRun}($1::jsonb, $2, $3) AS c`;
  const [row] = await sql(text, values);
  if (!row) throw new Error('create_run returned no row');
  const run = decodeRun(row);
  if (row.outcome === 'created') return { created: true, run };
  return { created: false, reason: row.outcome === 'active' ? 'active' : 'duplicate', run };
}

export async function claimRuns(
  { sql, n }: Target,
  input: { workerId: string; now: Date; limit: number; leaseMs: number },
): Promise<ClaimResult> {
  if (input.limit <= 0) return { claimed: [], skipped: [] };
  const found = await sql(`SELECT c.outcome, (c.run).* FROM ${n.claimRuns}($1, $2, $3, $4) AS c`, [
    input.workerId,
    input.now,
    input.limit,
    input.leaseMs,
  ]);
  const result: ClaimResult = { claimed: [], skipped: [] };
  for (const row of found) (row.outcome === 'claimed' ? result.claimed : result.skipped).push(decodeRun(row));
  return result;
}

export async function renewLease(
  { sql, n }: Target,
  input: {
    runId: string;
    workerId: string;
    now: Date;
    leaseMs: number;
    progress?: RunProgress | null;
    logs?: RunLogLine[];
  },
): Promise<{ ok: boolean; cancelRequested: boolean }> {
  if (!isUuid(input.runId)) return { ok: false, cancelRequested: false };
  const [row] = await sql(
    `UPDATE ${n.runs}
     SET lease_until = $3::timestamptz + $4::double precision * interval '1 millisecond',
         progress = CASE WHEN $5 THEN $6::jsonb ELSE progress END,
         logs = coalesce($7::jsonb, logs)
     WHERE id = $1 AND status = 'running' AND worker_id = $2
     RETURNING cancel_requested`,
    [
      input.runId,
      input.workerId,
      input.now,
      input.leaseMs,
      input.progress !== undefined,
      json(input.progress),
      input.logs === undefined ? null : JSON.stringify(input.logs),
    ],
  );
  return row
    ? { ok: true, cancelRequested: row.cancel_requested === true }
    : { ok: false, cancelRequested: false };
}

export async function findExpiredLeases(
  { sql, n }: Target,
  query: { now: Date; limit: number },
): Promise<Run[]> {
  if (query.limit <= 0) return [];
  const found = await sql(HOT_QUERIES.expiredLeases(n), [query.now, query.limit]);
  return found.map(decodeRun);
}

/** A pending run is cancelled, a running one flagged; the CASEs read the row as the lock found it. */
export async function cancelRun(
  { sql, n }: Target,
  input: { runId: string; now: Date; by: string | null },
): Promise<Run | null> {
  if (!isUuid(input.runId)) return null;
  const error = { code: 'cancelled', message: input.by ? `cancelled by ${input.by}` : 'cancelled' };
  const [row] = await sql(
    `WITH changed AS (
       UPDATE ${n.runs}
       SET status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
           finished_at = CASE WHEN status = 'pending' THEN $2 ELSE finished_at END,
           error = CASE WHEN status = 'pending' THEN $3::jsonb ELSE error END,
           cancel_requested = CASE WHEN status = 'running' THEN true ELSE cancel_requested END
       WHERE id = $1 AND status IN ('pending', 'running')
       RETURNING *
     )
     SELECT * FROM changed
     UNION ALL
     SELECT * FROM ${n.runs} WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM changed)`,
    [input.runId, input.now, JSON.stringify(error)],
  );
  return row ? decodeRun(row) : null;
}
