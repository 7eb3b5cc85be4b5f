import { randomUUID } from 'node:crypto';
import {
  type CreateRunInput,
  type CreateRunResult,
  createdRun,
  createRunsInChunks,
  type InsertJobsOptions,
  insertedJob,
  insertJobsInChunks,
  type Job,
  type NewAuditEntry,
  type NewJob,
  type NewRun,
  type Run,
} from '@cronkeeper/core';
import { auditRow } from './audit.js';
import { createRun, type Target, TRANSACTION_WAKE } from './claim-path.js';
import { decodeRun, encodeCreatedRunRowSparse, encodeJobRowSparse } from './codec.js';
import { DEADLOCK_DETECTED, sqlState } from './query.js';

/**
 * Rows per statement. A chunk travels as one JSON parameter: large enough that the round trip is
 * small beside the insert, small enough that one statement holds its locks briefly.
 */
export const RUN_CHUNK = 1_000;
export const JOB_CHUNK = 1_000;
const DEADLOCK_RETRIES = 3;

export function createRuns(target: Target, inputs: CreateRunInput[]): Promise<CreateRunResult[]> {
  return createRunsInChunks(inputs, {
    chunkSize: RUN_CHUNK,
    writeChunk: (runs) => writeRuns(target, runs),
    createRun: (input) => createRun(target, input),
    // Two chunks may run at once on two connections: their dedupe keys are distinct and nothing
    // in a run takes its order from a sequence.
    pipelined: true,
  });
}

/**
 * One statement: insert the chunk, skipping dedupe keys already held, and read the runs that hold
 * the chunk's keys as they were before it (a key taken by a concurrent caller after that is read
 * again below).
 */
async function writeRuns({ sql, n, wakeChannel }: Target, runs: NewRun[]): Promise<CreateRunResult[]> {
  // The records are the caller's, built for this call: a copy of each top level is enough, and
  // deep-copying every one was a large share of an import's time.
  const made = runs.map((run) => createdRun(run, randomUUID()));
  const keys = runs.flatMap((run) => (run.dedupeKey === null ? [] : [run.dedupeKey]));
  // jsonb_populate_recordset builds each row once (a `(record).*` over a function call would call
  // it once per column).
  const found = await sql(
    `WITH created AS (
       INSERT INTO ${n.runs} SELECT * FROM jsonb_populate_recordset(NULL::${n.runs}, $1::jsonb)
       ON CONFLICT (dedupe_key) DO NOTHING
       RETURNING id
     )
     SELECT c.id::text AS id, NULL::jsonb AS held FROM created AS c
     UNION ALL
     SELECT NULL, to_jsonb(x) FROM ${n.runs} AS x WHERE x.dedupe_key = ANY($2::text[])`,
    [JSON.stringify(made.map((run) => encodeCreatedRunRowSparse(run))), keys],
  );
  const created = new Set<string>();
  const holders = new Map<string, Run>();
  for (const row of found) {
    if (row.id) created.add(row.id as string);
    else {
      const run = decodeRun(row.held as Record<string, unknown>);
      if (run.dedupeKey !== null) holders.set(run.dedupeKey, run);
    }
  }
  const missing = made.filter((run) => !created.has(run.id) && !holders.has(run.dedupeKey as string));
  if (missing.length > 0) {
    const late = await sql(`SELECT * FROM ${n.runs} WHERE dedupe_key = ANY($1::text[])`, [
      missing.map((run) => run.dedupeKey),
    ]);
    for (const row of late) {
      const run = decodeRun(row);
      holders.set(run.dedupeKey as string, run);
    }
  }
  // A store bound to the caller's transaction wakes the scheduler at commit, as createRun does.
  if (wakeChannel !== undefined && created.size > 0)
    await sql('SELECT pg_notify($1, $2)', [wakeChannel, TRANSACTION_WAKE]);
  return made.map((run): CreateRunResult => {
    if (created.has(run.id)) return { created: true, run };
    const holder = holders.get(run.dedupeKey as string);
    if (!holder)
      throw new Error(`createRuns: run with dedupe key "${run.dedupeKey}" neither created nor found`);
    return { created: false, reason: 'duplicate', run: holder };
  });
}

export function insertJobs(
  target: Target,
  jobs: NewJob[],
  options?: InsertJobsOptions,
): Promise<(Job | null)[]> {
  const prepareChunk = (chunk: NewJob[], audits: (NewAuditEntry | undefined)[]) => {
    const write = prepareJobs(target, chunk, audits);
    return async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await write();
        } catch (error) {
          // Two seeders inserting overlapping names in different orders can deadlock; the loser's
          // statement was rolled back whole, so running it again is safe.
          if (sqlState(error) !== DEADLOCK_DETECTED || attempt >= DEADLOCK_RETRIES) throw error;
        }
      }
    };
  };
  return insertJobsInChunks(jobs, options, {
    chunkSize: JOB_CHUNK,
    prepareChunk,
    writeChunk: (chunk, audits) => prepareChunk(chunk, audits)(),
    // One at a time: the audit entries of two chunks running at once on two connections would
    // take interleaved sequence numbers, and an import's entries (one instant) list in that order.
    pipelined: false,
  });
}

/**
 * One statement: insert the chunk, skipping names already taken (the partial unique indexes on
 * name decide, so a concurrent seeder's job is waited for and then skipped), and the audit entries
 * of the jobs inserted. Rows go in name order so that seeders of the same names lock alike. The
 * parameters are encoded now; the returned function sends the statement.
 */
function prepareJobs(
  { sql, n }: Target,
  jobs: NewJob[],
  audits: (NewAuditEntry | undefined)[],
): () => Promise<(Job | null)[]> {
  // The records are the caller's, built for this call: a copy of each top level is enough, and
  // deep-copying every one was a large share of an import's time.
  const stored = jobs.map((job) => insertedJob(job, randomUUID()));
  const entries = stored.flatMap((job, ord) => {
    const entry = audits[ord];
    if (!entry) return [];
    const row = auditRow(entry);
    row.id = job.id;
    row.ord = ord;
    return [row];
  });
  const params = [JSON.stringify(stored.map((job) => encodeJobRowSparse(job))), JSON.stringify(entries)];
  return async () => {
    const found = await sql(
      `WITH inserted AS (
         INSERT INTO ${n.jobs}
         SELECT j.* FROM jsonb_populate_recordset(NULL::${n.jobs}, $1::jsonb) AS j
         ORDER BY j.tenant_id NULLS FIRST, j.name
         ON CONFLICT DO NOTHING
         RETURNING id
       ), audited AS (
         INSERT INTO ${n.audit} (at, actor, action, job, tenant_id, before, after, note)
         SELECT a.at, a.actor, a.action, a.job, a.tenant_id, a.before, a.after, a.note
         FROM jsonb_to_recordset($2::jsonb) AS a(id uuid, ord int, at timestamptz, actor text,
           action text, job text, tenant_id text, before jsonb, after jsonb, note text)
         JOIN inserted AS x ON x.id = a.id
         ORDER BY a.ord
       )
       SELECT id::text AS id FROM inserted`,
      params,
    );
    const inserted = new Set(found.map((row) => row.id as string));
    return stored.map((job) => (inserted.has(job.id) ? job : null));
  };
}
