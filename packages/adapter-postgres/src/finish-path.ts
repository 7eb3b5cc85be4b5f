import { randomUUID } from 'node:crypto';
import type {
  FinishAndClaimInput,
  FinishAndClaimResult,
  FinishedRun,
  FinishRunInput,
} from '@cronkeeper/core';
import { durationSql, type Target } from './claim-path.js';
import { decodeRun, encodeRunRow } from './codec.js';
import type { SqlNames } from './names.js';
import { DEADLOCK_DETECTED, isUuid, sqlState } from './query.js';

/**
 * Finishing runs: one statement per batch, each run fenced by its worker, with the job rows'
 * counters, follow-up retries and automatic pauses, and (finishAndClaim) the claim of the next runs.
 */
/**
 * Two batches finishing runs of the same jobs lock those job rows in whatever order their plans
 * visit them, so they can deadlock; PostgreSQL then aborts one whole statement, which is safe to
 * send again.
 */
async function retryDeadlock<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (sqlState(error) !== DEADLOCK_DETECTED || tries >= 3) throw error;
    }
  }
}

/**
 * One statement for a batch, each run fenced by the WHERE clause: concurrent finishers of one run
 * block on its row and re-check the condition against the winner's version, so exactly one of them
 * gets the run back. Job rows are updated once per job, with the batch's last run of that job.
 */
export async function finishRuns(
  { sql, n, announceChannel }: Target,
  inputs: FinishRunInput[],
): Promise<(FinishedRun | null)[]> {
  const rowsIn = finishRows(inputs);
  const finished: (FinishedRun | null)[] = inputs.map(() => null);
  if (rowsIn.length === 0) return finished;
  const values: unknown[] = [JSON.stringify(rowsIn)];
  const channel = announcing(rowsIn, announceChannel) ? `$${values.push(announceChannel)}` : null;
  const found = await retryDeadlock(() => sql(finishRunsSql(n, channel), values));
  for (const row of found) finished[Number(row.ord)] = finishedRun(row);
  return finished;
}

/**
 * The finish statement with the claim function called after it, in one statement: the claim's
 * limit is made to depend on the finished rows and on the inserted follow-ups, so both are done
 * before the function runs, and a volatile function sees what its calling statement changed. A
 * run queued behind a run finished here, or a retry due at once, can therefore be claimed by the
 * same call.
 */
export async function finishAndClaim(
  { sql, n, announceChannel }: Target,
  input: FinishAndClaimInput,
): Promise<FinishAndClaimResult> {
  const { finishes, claim } = input;
  const rowsIn = finishRows(finishes);
  const values: unknown[] = [JSON.stringify(rowsIn), claim.workerId, claim.now, claim.limit, claim.leaseMs];
  const channel = announcing(rowsIn, announceChannel) ? `$${values.push(announceChannel)}` : null;
  const found = await retryDeadlock(() =>
    sql(
      `WITH ${finishRunsCtes(n)}, done AS (${finishRunsSelect(channel)}),
       counted AS (SELECT (SELECT count(*) FROM done)::int + 0 * (SELECT count(*) FROM follow_up)::int AS n)
       SELECT 'finished' AS kind, to_jsonb(d) AS row FROM done AS d
       UNION ALL
       SELECT c.outcome, to_jsonb(c.run) FROM counted
       CROSS JOIN LATERAL ${n.claimRuns}($2, $3, greatest($4::int, 0) + 0 * counted.n, $5) AS c`,
      values,
    ),
  );
  const result: FinishAndClaimResult = { finished: finishes.map(() => null), claimed: [], skipped: [] };
  for (const { kind, row } of found as { kind: string; row: Record<string, unknown> }[]) {
    if (kind === 'finished') result.finished[Number(row.ord)] = finishedRun(row);
    else (kind === 'claimed' ? result.claimed : result.skipped).push(decodeRun(row));
  }
  return result;
}

function finishedRun(row: Record<string, unknown>): FinishedRun {
  const run: FinishedRun = decodeRun(row);
  if (row.paused_job === true) run.pausedJob = true;
  return run;
}

/** finishRuns' input rows (one per well-formed run id, with its input's position as `ord`). */
function finishRows(inputs: FinishRunInput[]) {
  return inputs.flatMap((input, ord) =>
    isUuid(input.runId)
      ? [
          {
            ord,
            id: input.runId,
            worker: input.fence === 'expired' ? null : input.fence.workerId,
            now: input.now,
            status: input.status,
            result: input.result ?? null,
            error: input.error ?? null,
            tasks: input.tasks ?? null,
            logs: input.logs ?? null,
            // Set (even to null) replaces the stored progress; left out keeps it.
            progress_set: input.progress !== undefined,
            progress: input.progress ?? null,
            follow_up: input.followUp ? encodeRunRow(input.followUp, randomUUID()) : null,
            // An empty origin is no origin (no event may carry one), as on every store.
            announce: input.announceAs || null,
          },
        ]
      : [],
  );
}

/**
 * The finish statement. Runs are fenced by the WHERE clause. Each job's bookkeeping is updated
 * once with the batch's last run, and its `consecutive_failures` moved: reset by a success, + 1 per
 * final failure (a failure with a follow-up is not counted) after the batch's last success. Jobs
 * with `auto_pause` are locked first, so the pause is decided on their current count whatever
 * finishes run beside this one; one that reaches its threshold is paused here, with its audit
 * entry, and the failure that paused it comes back with `paused_job`.
 */
function finishRunsSql(n: SqlNames, channel: string | null): string {
  return `WITH ${finishRunsCtes(n)}\n     ${finishRunsSelect(channel)}`;
}

/** Whether a finish statement for `rows` announces any of them (the store notifies, and one asks). */
function announcing(rows: { announce: string | null }[], channel: string | undefined): channel is string {
  return channel !== undefined && rows.some((row) => row.announce !== null);
}

/**
 * The finished runs, with whether each one's failure paused its job. Given the parameter holding
 * the channel, a run finished with `announceAs` is announced there by the same statement: the
 * notification leaves at commit, with the finish, and costs no NOTIFY statement of its own.
 */
function finishRunsSelect(channel: string | null): string {
  // A payload must stay under 8000 bytes, or pg_notify fails and the finish with it, and
  // subscribers drop an event whose tenant id is over 1000 characters: such an event goes as a
  // wake-up instead. An origin no event may carry (over 1000) announces nothing.
  const notice =
    channel === null
      ? { column: '', from: '' }
      : {
          column: `,
       CASE WHEN octet_length(f.announce) <= 1000 THEN pg_notify(${channel},
         CASE WHEN octet_length(e.message) < 8000 AND coalesce(octet_length(f.tenant_id), 0) <= 1000 THEN e.message
              ELSE json_build_object('type', 'wake', 'origin', f.announce)::text END) END AS announced`,
          from: `
     CROSS JOIN LATERAL (SELECT json_build_object('type', 'run', 'origin', f.announce, 'runId', f.id,
       'status', f.status, 'tenantId', f.tenant_id)::text AS message) AS e`,
        };
  return `SELECT f.*, coalesce(d.pause AND f.id = d.last_failure, false) AS paused_job${notice.column}
     FROM finished AS f LEFT JOIN decided AS d ON d.job_id = f.job_id${notice.from}`;
}

/** The common table expressions of the finish statement (see {@link finishRunsSql}). */
function finishRunsCtes(n: SqlNames): string {
  // Failures in a row after this batch, from the job row as the UPDATE locked it.
  const streak = `CASE WHEN d.last_success IS NULL THEN j.consecutive_failures + d.counted_failures ELSE d.counted_failures END`;
  return `input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(ord int, id uuid, worker text, now timestamptz,
         status text, result jsonb, error jsonb, tasks jsonb, logs jsonb, progress_set boolean, progress jsonb,
         follow_up jsonb, announce text)
     ), finished AS (
       UPDATE ${n.runs} AS r
       SET status = i.status, finished_at = i.now,
           duration_ms = ${durationSql('i.now')},
           result = i.result, error = i.error,
           tasks = coalesce(i.tasks, r.tasks), logs = coalesce(i.logs, r.logs),
           progress = CASE WHEN i.progress_set THEN i.progress ELSE r.progress END, lease_until = NULL
       FROM input AS i
       WHERE r.id = i.id AND r.status = 'running'
         AND CASE WHEN i.worker IS NULL THEN r.lease_until < i.now ELSE r.worker_id = i.worker END
       RETURNING r.*, i.ord AS ord, i.now AS finish_now, i.announce AS announce,
         (i.status = 'failed' AND i.follow_up IS NULL) AS counted
     ), marked AS (
       SELECT f.*, max(f.ord) FILTER (WHERE f.status = 'succeeded') OVER (PARTITION BY f.job_id) AS last_success
       FROM finished AS f WHERE f.job_id IS NOT NULL
     ), per_job AS (
       SELECT DISTINCT ON (f.job_id) f.job_id, f.id, f.started_at, f.status, f.error, f.duration_ms, f.finish_now,
              f.last_success,
              count(*) OVER w AS runs, count(*) FILTER (WHERE f.status = 'failed') OVER w AS failures,
              count(*) FILTER (WHERE f.counted AND f.ord > coalesce(f.last_success, -1)) OVER w AS counted_failures,
              first_value(f.id) OVER (PARTITION BY f.job_id ORDER BY f.counted DESC, f.ord DESC) AS last_failure
       FROM marked AS f
       WINDOW w AS (PARTITION BY f.job_id)
       ORDER BY f.job_id, f.ord DESC
     ), locked AS MATERIALIZED (
       -- Only jobs that can pause are locked up front; the others' count moves in the UPDATE below,
       -- which reads the row as it is when it locks it.
       SELECT j.id, j.name, j.tenant_id, j.enabled, j.paused_note, j.auto_pause, j.consecutive_failures
       FROM ${n.jobs} AS j WHERE j.id IN (SELECT job_id FROM per_job) AND j.auto_pause IS NOT NULL
       ORDER BY j.id
       FOR UPDATE
     ), decided AS (
       SELECT p.*, l.name, l.tenant_id, l.paused_note,
              CASE WHEN p.last_success IS NULL THEN l.consecutive_failures + p.counted_failures
                   ELSE p.counted_failures END AS locked_streak,
              coalesce(l.enabled AND p.counted_failures > 0
                AND (CASE WHEN p.last_success IS NULL THEN l.consecutive_failures + p.counted_failures
                          ELSE p.counted_failures END) >= (l.auto_pause ->> 'afterFailures')::int, false) AS pause
       FROM per_job AS p LEFT JOIN locked AS l ON l.id = p.job_id
     ), bookkeeping AS (
       UPDATE ${n.jobs} AS j
       SET last_run_at = d.started_at, last_run_id = d.id::text, last_status = d.status,
           last_error = CASE d.status WHEN 'failed' THEN coalesce(d.error ->> 'message', 'failed')
                                      WHEN 'succeeded' THEN NULL ELSE j.last_error END,
           last_duration_ms = d.duration_ms, run_count = j.run_count + d.runs,
           error_count = j.error_count + d.failures,
           consecutive_failures = ${streak},
           enabled = j.enabled AND NOT d.pause,
           next_run_at = CASE WHEN d.pause THEN NULL ELSE j.next_run_at END,
           paused_note = CASE WHEN d.pause THEN ${pauseNoteSql(streak)} ELSE j.paused_note END,
           version = j.version + CASE WHEN d.pause THEN 1 ELSE 0 END,
           updated_at = CASE WHEN d.pause THEN d.finish_now ELSE j.updated_at END
       FROM decided AS d WHERE j.id = d.job_id
       RETURNING j.id
     ), audited AS (
       INSERT INTO ${n.audit} (at, actor, action, job, tenant_id, before, after, note)
       SELECT d.finish_now, NULL, 'paused', d.name, d.tenant_id,
              jsonb_build_object('enabled', true, 'pausedNote', d.paused_note),
              jsonb_build_object('enabled', false, 'pausedNote', ${pauseNoteSql('d.locked_streak')}),
              ${pauseNoteSql('d.locked_streak')}
       FROM decided AS d WHERE d.pause
     ), follow_up AS (
       INSERT INTO ${n.runs}
       SELECT p.* FROM finished AS f JOIN input AS i ON i.ord = f.ord
       CROSS JOIN LATERAL jsonb_populate_record(NULL::${n.runs}, i.follow_up) AS p
       WHERE i.follow_up IS NOT NULL
       ON CONFLICT (dedupe_key) DO NOTHING
       RETURNING id
     )`;
}

/** The note of an automatic pause (as core's `autoPauseNote`), from an SQL count. */
const pauseNoteSql = (count: string) =>
  `'paused automatically after ' || ${count} || ' failed runs in a row'`;
