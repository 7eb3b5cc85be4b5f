import { keyLockSql, type SqlNames } from '../names.js';

/**
 * Due pending runs in claim order, locked without waiting: the claim function's candidates.
 * `now` is an SQL expression (the function's parameter; a placeholder in the plan test).
 */
export function claimCandidatesSql(n: SqlNames, now: string): string {
  // Queued runs of a busy key are left out here, so a backlog behind a long run is neither
  // locked nor walked on every claim.
  return `SELECT * FROM ${n.runs} AS r
    WHERE r.status = 'pending' AND r.run_at <= ${now}
      AND (r.overlap <> 'queue' OR NOT EXISTS (
        SELECT 1 FROM ${n.runs} AS busy
        WHERE busy.concurrency_key = r.concurrency_key AND busy.status = 'running' AND busy.overlap <> 'allow'))
    ORDER BY r.priority, r.run_at, r.created_at, r.id
    FOR UPDATE OF r SKIP LOCKED`;
}

/**
 * Version 1: the jobs, runs and rate-limit tables, their indexes, and the two functions that make
 * claiming and exclusive run creation one atomic round trip each. Kept as plain SQL so it reads
 * (and can be reviewed, or run by hand) like any migration file.
 */
export function initSql(n: SqlNames): string {
  return `
CREATE TABLE IF NOT EXISTS ${n.jobs} (
  id               uuid PRIMARY KEY,
  name             text NOT NULL,
  tenant_id        text,
  description      text,
  schedule         text NOT NULL,
  timezone         text NOT NULL,
  tasks            jsonb NOT NULL,
  params           jsonb NOT NULL DEFAULT '{}',
  enabled          boolean NOT NULL DEFAULT true,
  paused_note      text,
  overlap          text NOT NULL CHECK (overlap IN ('skip', 'queue', 'allow')),
  misfire          text NOT NULL CHECK (misfire IN ('once', 'skip', 'all')),
  catch_up_limit   integer NOT NULL,
  misfire_grace_ms bigint,
  timeout_ms       bigint,
  retry            jsonb,
  jitter_ms        bigint NOT NULL DEFAULT 0,
  priority         integer NOT NULL DEFAULT 0,
  active_from      timestamptz,
  active_until     timestamptz,
  next_run_at      timestamptz,
  last_run_at      timestamptz,
  last_run_id      text,
  last_status      text,
  last_error       text,
  last_duration_ms bigint,
  run_count        integer NOT NULL DEFAULT 0,
  error_count      integer NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL,
  created_by       text,
  updated_at       timestamptz NOT NULL,
  updated_by       text,
  version          integer NOT NULL DEFAULT 1,
  metadata         jsonb NOT NULL DEFAULT '{}'
);

-- A name is unique per tenant; global jobs (tenant_id NULL) form a tenant of their own.
CREATE UNIQUE INDEX IF NOT EXISTS ${n.index('jobs_name_global')} ON ${n.jobs} (name) WHERE tenant_id IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS ${n.index('jobs_name_tenant')} ON ${n.jobs} (tenant_id, name) WHERE tenant_id IS NOT NULL;
-- findDueJobs / nextWakeAt / nextJobRunAt: only enabled jobs that will fire are in it.
CREATE INDEX IF NOT EXISTS ${n.index('jobs_due')} ON ${n.jobs} (next_run_at) WHERE enabled AND next_run_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS ${n.runs} (
  id               uuid PRIMARY KEY,
  job_id           uuid,
  job_name         text,
  executor         text NOT NULL,
  tenant_id        text,
  trigger          text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'once', 'retry')),
  status           text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped')),
  tasks            jsonb NOT NULL,
  scheduled_for    timestamptz,
  run_at           timestamptz NOT NULL,
  created_at       timestamptz NOT NULL,
  started_at       timestamptz,
  finished_at      timestamptz,
  duration_ms      bigint,
  params           jsonb NOT NULL DEFAULT '{}',
  result           jsonb,
  error            jsonb,
  attempt          integer NOT NULL DEFAULT 1,
  max_attempts     integer NOT NULL DEFAULT 1,
  parent_run_id    text,
  triggered_by     text,
  worker_id        text,
  lease_until      timestamptz,
  priority         integer NOT NULL DEFAULT 0,
  overlap          text NOT NULL CHECK (overlap IN ('skip', 'queue', 'allow')),
  concurrency_key  text NOT NULL,
  dedupe_key       text,
  timeout_ms       bigint,
  cancel_requested boolean NOT NULL DEFAULT false,
  progress         jsonb,
  logs             jsonb NOT NULL DEFAULT '[]',
  -- A slot (or a retry) is created once: the unique key makes a second insert a no-op.
  CONSTRAINT ${n.index('runs_dedupe')} UNIQUE (dedupe_key)
);

-- Claims and nextWakeAt: pending runs by due time, nothing else.
CREATE INDEX IF NOT EXISTS ${n.index('runs_due')} ON ${n.runs} (run_at) WHERE status = 'pending';
-- Exclusive runs stay exclusive: the database refuses a second running run of one key.
CREATE UNIQUE INDEX IF NOT EXISTS ${n.index('runs_exclusive')} ON ${n.runs} (concurrency_key)
  WHERE status = 'running' AND overlap <> 'allow';
-- createRun(rejectIfActive): the pending and running runs of one key.
CREATE INDEX IF NOT EXISTS ${n.index('runs_active_key')} ON ${n.runs} (concurrency_key)
  WHERE status IN ('pending', 'running');
-- findExpiredLeases: running runs by lease end.
CREATE INDEX IF NOT EXISTS ${n.index('runs_lease')} ON ${n.runs} (lease_until) WHERE status = 'running';
-- failStaleRuns: running runs by start.
CREATE INDEX IF NOT EXISTS ${n.index('runs_started')} ON ${n.runs} (started_at) WHERE status = 'running';
-- listRuns: newest first, keyset-paged on (created_at, id); and per job.
CREATE INDEX IF NOT EXISTS ${n.index('runs_created')} ON ${n.runs} (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS ${n.index('runs_job')} ON ${n.runs} (job_id, created_at DESC, id DESC);
-- pruneRuns and countRuns: finished runs by end.
CREATE INDEX IF NOT EXISTS ${n.index('runs_finished')} ON ${n.runs} (finished_at) WHERE finished_at IS NOT NULL;
-- executorSummaries: the last finished run of each executor.
CREATE INDEX IF NOT EXISTS ${n.index('runs_executor')} ON ${n.runs} (executor, finished_at DESC);

CREATE TABLE IF NOT EXISTS ${n.rateLimits} (
  key     text PRIMARY KEY,
  -- Instants (ms since epoch) of the hits still in the window, ascending.
  hits    bigint[] NOT NULL,
  -- Whether the last hit was let through (read back by the statement that made it).
  allowed boolean NOT NULL
);

-- Claim due runs in order (priority, run_at, created_at), applying the overlap policy.
-- Rows are locked with SKIP LOCKED, so concurrent claimers take disjoint runs without waiting.
-- For an exclusive run, the key is busy when a run of it is running (or was claimed earlier in
-- this call). An idle key is taken under a non-blocking advisory lock and checked again, so two
-- claimers never both start a run of one key; a caller that cannot get the lock leaves the run
-- pending for the next claim rather than wait (no lock waits means no deadlocks). The unique
-- index on running exclusive runs is the backstop.
CREATE OR REPLACE FUNCTION ${n.claimRuns}(p_worker text, p_now timestamptz, p_limit integer, p_lease_ms bigint)
RETURNS TABLE (outcome text, run ${n.runs})
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
  candidate ${n.runs};
  claimed integer := 0;
  busy text[] := '{}';
  is_busy boolean;
BEGIN
  IF p_limit <= 0 THEN
    RETURN;
  END IF;
  FOR candidate IN
    ${claimCandidatesSql(n, 'p_now')}
  LOOP
    EXIT WHEN claimed >= p_limit;
    IF candidate.overlap <> 'allow' THEN
      is_busy := candidate.concurrency_key = ANY (busy) OR EXISTS (
        SELECT 1 FROM ${n.runs} AS x
        WHERE x.concurrency_key = candidate.concurrency_key AND x.status = 'running' AND x.overlap <> 'allow');
      IF NOT is_busy THEN
        CONTINUE WHEN NOT pg_try_advisory_xact_lock(${keyLockSql(n, 'candidate.concurrency_key')});
        is_busy := EXISTS (
          SELECT 1 FROM ${n.runs} AS x
          WHERE x.concurrency_key = candidate.concurrency_key AND x.status = 'running' AND x.overlap <> 'allow');
      END IF;
      busy := array_append(busy, candidate.concurrency_key);
      IF is_busy THEN
        IF candidate.overlap = 'skip' THEN
          UPDATE ${n.runs} AS r
          SET status = 'skipped',
              finished_at = p_now,
              error = jsonb_build_object('code', 'overlap', 'message',
                'skipped: a run with the same concurrency key was running (overlap "skip")')
          WHERE r.id = candidate.id
          RETURNING r.* INTO candidate;
          outcome := 'skipped';
          run := candidate;
          RETURN NEXT;
        END IF;
        CONTINUE;
      END IF;
    END IF;
    UPDATE ${n.runs} AS r
    SET status = 'running',
        worker_id = p_worker,
        started_at = p_now,
        lease_until = p_now + p_lease_ms * interval '1 millisecond'
    WHERE r.id = candidate.id
    RETURNING r.* INTO candidate;
    claimed := claimed + 1;
    outcome := 'claimed';
    run := candidate;
    RETURN NEXT;
  END LOOP;
END
$fn$;

-- Create one run: a run whose dedupe key exists is returned instead ('duplicate'); with
-- p_reject_if_active, the check for a running or due pending run of the key and the insert happen
-- under an advisory lock on the key, so of concurrent callers exactly one creates its run.
CREATE OR REPLACE FUNCTION ${n.createRun}(p_run jsonb, p_now timestamptz, p_reject_if_active boolean)
RETURNS TABLE (outcome text, run ${n.runs})
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
  incoming ${n.runs} := jsonb_populate_record(NULL::${n.runs}, p_run);
  found_run ${n.runs};
BEGIN
  IF incoming.dedupe_key IS NOT NULL THEN
    SELECT * INTO found_run FROM ${n.runs} AS r WHERE r.dedupe_key = incoming.dedupe_key;
    IF FOUND THEN
      outcome := 'duplicate';
      run := found_run;
      RETURN NEXT;
      RETURN;
    END IF;
  END IF;
  IF p_reject_if_active THEN
    PERFORM pg_advisory_xact_lock(${keyLockSql(n, 'incoming.concurrency_key')});
    SELECT * INTO found_run FROM ${n.runs} AS r
    WHERE r.concurrency_key = incoming.concurrency_key
      AND (r.status = 'running' OR (r.status = 'pending' AND r.run_at <= p_now))
    ORDER BY (r.status = 'running') DESC, r.run_at, r.created_at
    LIMIT 1;
    IF FOUND THEN
      outcome := 'active';
      run := found_run;
      RETURN NEXT;
      RETURN;
    END IF;
  END IF;
  INSERT INTO ${n.runs} SELECT (incoming).*
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING * INTO found_run;
  IF FOUND THEN
    outcome := 'created';
  ELSE
    -- A concurrent caller inserted the same dedupe key after our first look.
    SELECT * INTO found_run FROM ${n.runs} AS r WHERE r.dedupe_key = incoming.dedupe_key;
    outcome := 'duplicate';
  END IF;
  run := found_run;
  RETURN NEXT;
END
$fn$;
`;
}
