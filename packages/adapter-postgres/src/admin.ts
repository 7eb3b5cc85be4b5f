import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  decodeRunCursor,
  encodeRunCursor,
  type Job,
  type JobFilter,
  type JobPatch,
  type NewAuditEntry,
  type NewJob,
  type Run,
  type RunError,
  type RunFilter,
  type RunPage,
  type TenantIds,
  ValidationError,
} from '@cronkeeper/core';
import { encodeAudit, insertAuditSql } from './audit.js';
import type { Target } from './claim-path.js';
import { decodeJob, decodeRun, encodeJob, encodeJobPatch } from './codec.js';
import { Conditions, isUuid, rows, sqlState, UNIQUE_VIOLATION } from './query.js';

const TERMINAL = `('succeeded', 'failed', 'cancelled', 'skipped')`;
/** Runs deleted per statement by `pruneRuns`, so one call never holds locks on a huge set at once. */
const PRUNE_BATCH = 5_000;

function nameTaken(error: unknown, tenantId: string | null, name: string): unknown {
  if (sqlState(error) !== UNIQUE_VIOLATION) return error;
  const where = tenantId === null ? 'as a global job' : `in tenant "${tenantId}"`;
  return new ConflictError(
    `a job named "${name}" already exists ${where}: pick another name or update that job`,
    {
      cause: error,
    },
  );
}

export async function insertJob(
  { db, n }: Target,
  input: NewJob,
  options: { audit?: NewAuditEntry } = {},
): Promise<Job> {
  const insert = `INSERT INTO ${n.jobs} SELECT * FROM jsonb_populate_record(NULL::${n.jobs}, $1::jsonb) RETURNING *`;
  const values: unknown[] = [encodeJob({ ...input, id: randomUUID(), version: 1 })];
  try {
    const [row] = await rows(
      db,
      options.audit
        ? `WITH inserted AS (${insert}), audited AS (${insertAuditSql(n, '$2', 'EXISTS (SELECT 1 FROM inserted)')})
           SELECT * FROM inserted`
        : insert,
      options.audit ? [...values, encodeAudit(options.audit)] : values,
    );
    return decodeJob(row as Record<string, unknown>);
  } catch (error) {
    throw nameTaken(error, input.tenantId, input.name);
  }
}

export async function getJob({ sql, n }: Target, id: string): Promise<Job | null> {
  if (!isUuid(id)) return null;
  const [row] = await sql(`SELECT * FROM ${n.jobs} WHERE id = $1`, [id]);
  return row ? decodeJob(row) : null;
}

export async function getJobs({ sql, n }: Target, ids: readonly string[]): Promise<Job[]> {
  const uuids = ids.filter(isUuid);
  if (uuids.length === 0) return [];
  const rows = await sql(`SELECT * FROM ${n.jobs} WHERE id = ANY ($1::uuid[])`, [uuids]);
  return rows.map(decodeJob);
}

export async function findJobByName(
  { db, n }: Target,
  tenantId: string | null,
  name: string,
): Promise<Job | null> {
  const [row] = await rows(
    db,
    tenantId === null
      ? `SELECT * FROM ${n.jobs} WHERE tenant_id IS NULL AND name = $1`
      : `SELECT * FROM ${n.jobs} WHERE tenant_id = $2 AND name = $1`,
    tenantId === null ? [name] : [name, tenantId],
  );
  return row ? decodeJob(row) : null;
}

export async function listJobs({ db, n }: Target, filter: JobFilter): Promise<Job[]> {
  const where = new Conditions().tenants(filter.tenantIds);
  if (filter.enabled !== undefined) where.add(`enabled = ${where.param(filter.enabled)}`);
  // COLLATE "C" orders by code point (UTF-8 bytes), whatever the database's locale: as the other stores do (compareCodePoints).
  const found = await rows(
    db,
    `SELECT * FROM ${n.jobs} ${where.where()} ORDER BY name COLLATE "C", tenant_id COLLATE "C" NULLS FIRST`,
    where.values,
  );
  return found.map(decodeJob);
}

export async function updateJob(
  { db, n }: Target,
  input: { id: string; expectedVersion: number; patch: JobPatch; now: Date; audit?: NewAuditEntry },
): Promise<Job | null> {
  if (!isUuid(input.id)) return null;
  const { columns, row } = encodeJobPatch(input.patch);
  const sets = columns.map((column) => `${column} = p.${column}`);
  const update = `UPDATE ${n.jobs} AS j
       SET ${[...sets, 'version = j.version + 1', 'updated_at = $4'].join(', ')}
       FROM jsonb_populate_record(NULL::${n.jobs}, $3::jsonb) AS p
       WHERE j.id = $1 AND j.version = $2
       RETURNING j.*`;
  const values: unknown[] = [input.id, input.expectedVersion, row, input.now];
  try {
    const [updated] = await rows(
      db,
      input.audit
        ? `WITH updated AS (${update}), audited AS (${insertAuditSql(n, '$5', 'EXISTS (SELECT 1 FROM updated)')})
           SELECT * FROM updated`
        : update,
      input.audit ? [...values, encodeAudit(input.audit)] : values,
    );
    return updated ? decodeJob(updated) : null;
  } catch (error) {
    const tenantId = input.patch.tenantId ?? null;
    throw nameTaken(error, tenantId, input.patch.name ?? '(renamed)');
  }
}

/** Deletes the job (with its audit entry) and then cancels its pending runs. */
export async function deleteJob(
  { db, n }: Target,
  input: { id: string; now: Date; audit?: NewAuditEntry },
): Promise<boolean> {
  if (!isUuid(input.id)) return false;
  // Two statements, in this order. The delete waits for a firing of the job in flight (it holds the
  // job's row) to commit; the cancel then reads the runs afresh and sees the run that firing made.
  // In one statement both would read the runs as they were before that firing committed, leaving
  // its run pending for a job that no longer exists. A firing that comes after finds no job. The
  // audit entry commits with the delete itself: recorded if and only if the job is gone.
  const audited = input.audit
    ? `WITH gone AS (DELETE FROM ${n.jobs} WHERE id = $1 RETURNING name),
         audited AS (${insertAuditSql(n, '$2', 'EXISTS (SELECT 1 FROM gone)')})
       SELECT name FROM gone`
    : `DELETE FROM ${n.jobs} WHERE id = $1 RETURNING name`;
  const [gone] = await rows(db, audited, input.audit ? [input.id, encodeAudit(input.audit)] : [input.id]);
  if (!gone) return false;
  await rows(
    db,
    `UPDATE ${n.runs}
     SET status = 'cancelled', finished_at = $2,
         error = jsonb_build_object('code', 'job_deleted', 'message', $3::text)
     WHERE job_id = $1 AND status = 'pending'`,
    [input.id, input.now, `job "${String(gone.name)}" was deleted`],
  );
  return true;
}

export async function getRun({ sql, n }: Target, id: string): Promise<Run | null> {
  if (!isUuid(id)) return null;
  const [row] = await sql(`SELECT * FROM ${n.runs} WHERE id = $1`, [id]);
  return row ? decodeRun(row) : null;
}

/** Keyset paging on (created_at, id), newest first: each page is one index range, however deep. */
export async function listRuns({ db, n }: Target, filter: RunFilter): Promise<RunPage> {
  const where = new Conditions().tenants(filter.tenantIds);
  if (filter.statuses) where.add(`status = ANY(${where.param([...filter.statuses])}::text[])`);
  if (filter.jobId !== undefined)
    where.add(isUuid(filter.jobId) ? `job_id = ${where.param(filter.jobId)}::uuid` : 'false');
  if (filter.executor !== undefined) where.add(`executor = ${where.param(filter.executor)}`);
  if (filter.triggers) where.add(`trigger = ANY(${where.param([...filter.triggers])}::text[])`);
  if (filter.since) where.add(`created_at >= ${where.param(filter.since)}`);
  if (filter.until) where.add(`created_at < ${where.param(filter.until)}`);
  if (filter.cursor) {
    const after = decodeRunCursor(filter.cursor);
    if (!isUuid(after.id))
      throw ValidationError.field('cursor', 'is not a cursor returned by a previous page');
    where.add(
      `(created_at, id) < (${where.param(new Date(after.createdAt))}::timestamptz, ${where.param(after.id)}::uuid)`,
    );
  }
  const limit = Math.max(0, filter.limit);
  const found = await rows(
    db,
    `SELECT * FROM ${n.runs} ${where.where()} ORDER BY created_at DESC, id DESC LIMIT ${where.param(limit + 1)}`,
    where.values,
  );
  const items = found.slice(0, limit).map(decodeRun);
  const last = items[items.length - 1];
  const more = found.length > limit && last !== undefined;
  return {
    items,
    nextCursor: more ? encodeRunCursor({ createdAt: last.createdAt.getTime(), id: last.id }) : null,
  };
}

/**
 * The stale-run sweep in one statement: fail the stale runs, then update each affected job once
 * (counts added up, the latest-started run as its last run).
 */
export async function failStaleRuns(
  { db, n }: Target,
  input: { startedBefore: Date; now: Date; error: RunError; tenantIds?: TenantIds },
): Promise<Run[]> {
  const stale = new Conditions([
    input.startedBefore,
    input.now,
    JSON.stringify(input.error),
    input.error.message,
  ])
    .add(`r.status = 'running'`)
    .add('r.started_at < $1')
    .tenants(input.tenantIds, 'r.tenant_id');
  const found = await rows(
    db,
    `WITH failed AS (
       UPDATE ${n.runs} AS r
       SET status = 'failed', finished_at = $2,
           duration_ms = CASE WHEN r.started_at IS NULL THEN NULL
             ELSE greatest(0, round(extract(epoch FROM ($2::timestamptz - r.started_at)) * 1000))::bigint END,
           error = $3::jsonb, lease_until = NULL
       ${stale.where()}
       RETURNING r.*
     ), latest AS (
       SELECT DISTINCT ON (job_id) job_id, id, started_at, duration_ms, count(*) OVER (PARTITION BY job_id) AS failures
       FROM failed WHERE job_id IS NOT NULL
       ORDER BY job_id, started_at DESC, id DESC
     ), bookkeeping AS (
       UPDATE ${n.jobs} AS j
       SET last_run_at = l.started_at, last_run_id = l.id::text, last_status = 'failed', last_error = $4,
           last_duration_ms = l.duration_ms, run_count = j.run_count + l.failures,
           error_count = j.error_count + l.failures
       FROM latest AS l WHERE j.id = l.job_id
       RETURNING j.id
     )
     SELECT * FROM failed ORDER BY started_at, id`,
    stale.values,
  );
  return found.map(decodeRun);
}

export async function pruneRuns(
  { db, n }: Target,
  input: { finishedBefore: Date; tenantIds?: TenantIds },
): Promise<number> {
  const where = new Conditions([input.finishedBefore])
    .add(`status IN ${TERMINAL}`)
    .add('finished_at < $1')
    .tenants(input.tenantIds);
  let total = 0;
  for (;;) {
    const result = await db.query(
      `DELETE FROM ${n.runs} WHERE id IN (SELECT id FROM ${n.runs} ${where.where()} LIMIT ${PRUNE_BATCH})`,
      where.values,
    );
    const deleted = result.rowCount ?? 0;
    total += deleted;
    if (deleted < PRUNE_BATCH) return total;
  }
}
