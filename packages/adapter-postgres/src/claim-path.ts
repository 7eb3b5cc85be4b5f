import { randomUUID } from 'node:crypto';
import type {
  ClaimResult,
  CreateRunInput,
  CreateRunResult,
  FinishRunInput,
  FireSlotInput,
  FireSlotResult,
  Job,
  Run,
  RunLogLine,
  RunProgress,
} from '@cronkeeper/core';
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
  /** Set on a store that notifies: `createRun` announces the run it created on this channel. */
  announceChannel?: string;
}

/** The wake-up a bound store's `createRun` sends with the run it created. */
export const TRANSACTION_WAKE = JSON.stringify({ type: 'wake', origin: 'cronkeeper-postgres-transaction' });

const json = (value: unknown): string | null =>
  value === null || value === undefined ? null : JSON.stringify(value);

/** Milliseconds between a run's start and `$now`, computed where both live. */
const durationSql = (now: string) =>
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
export async function fireSlots({ sql, n }: Target, inputs: FireSlotInput[]): Promise<FireSlotResult[]> {
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
  const results: FireSlotResult[] = inputs.map(() => ({ advanced: false, created: [] }));
  if (jobs.length === 0) return results;
  const [row] = await sql(
    `WITH input AS (
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
     )
     SELECT (SELECT coalesce(jsonb_agg(ord), '[]'::jsonb) FROM advanced) AS advanced,
            (SELECT coalesce(jsonb_agg(to_jsonb(c)), '[]'::jsonb) FROM created AS c) AS created`,
    [JSON.stringify(jobs), JSON.stringify(runs)],
  );
  for (const ord of (row?.advanced ?? []) as number[]) (results[ord] as FireSlotResult).advanced = true;
  const created = ((row?.created ?? []) as Record<string, unknown>[]).map(decodeRun);
  created.sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
  const ordOfRun = new Map(runs.map(({ ord, payload }) => [payload.id as string, ord]));
  for (const run of created) results[ordOfRun.get(run.id) as number]?.created.push(run);
  return results;
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
  const [row] = await sql(
    `SELECT c.outcome, (c.run).*${notice} FROM ${n.createRun}($1::jsonb, $2, $3) AS c`,
    values,
  );
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

/**
 * One statement, fenced by its WHERE clause: concurrent finishers of one run block on its row and
 * re-check the condition against the winner's version, so exactly one of them gets the run back.
 */
export async function finishRun({ sql, n }: Target, input: FinishRunInput): Promise<Run | null> {
  if (!isUuid(input.runId)) return null;
  // Both variants mention $9 so its type is always known.
  const fence = input.fence === 'expired' ? 'r.lease_until < $2 AND $9::text IS NULL' : 'r.worker_id = $9';
  const followUps = input.followUp ? [encodeRunRow(input.followUp, randomUUID())] : [];
  const [row] = await sql(
    `WITH finished AS (
       UPDATE ${n.runs} AS r
       SET status = $3, finished_at = $2, duration_ms = ${durationSql('$2')},
           result = $4::jsonb, error = $5::jsonb,
           tasks = coalesce($6::jsonb, r.tasks), logs = coalesce($7::jsonb, r.logs), lease_until = NULL
       WHERE r.id = $1 AND r.status = 'running' AND ${fence}
       RETURNING r.*
     ), bookkeeping AS (
       UPDATE ${n.jobs} AS j
       SET last_run_at = f.started_at, last_run_id = f.id::text, last_status = f.status,
           last_error = CASE f.status WHEN 'failed' THEN coalesce(f.error ->> 'message', 'failed')
                                      WHEN 'succeeded' THEN NULL ELSE j.last_error END,
           last_duration_ms = f.duration_ms, run_count = j.run_count + 1,
           error_count = j.error_count + (f.status = 'failed')::int
       FROM finished AS f WHERE j.id = f.job_id
       RETURNING j.id
     ), follow_up AS (
       INSERT INTO ${n.runs}
       SELECT * FROM jsonb_populate_recordset(NULL::${n.runs}, $8::jsonb) WHERE EXISTS (SELECT 1 FROM finished)
       ON CONFLICT (dedupe_key) DO NOTHING
       RETURNING id
     )
     SELECT * FROM finished`,
    [
      input.runId,
      input.now,
      input.status,
      json(input.result),
      json(input.error),
      input.tasks === undefined ? null : JSON.stringify(input.tasks),
      input.logs === undefined ? null : JSON.stringify(input.logs),
      JSON.stringify(followUps),
      input.fence === 'expired' ? null : input.fence.workerId,
    ],
  );
  return row ? decodeRun(row) : null;
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
