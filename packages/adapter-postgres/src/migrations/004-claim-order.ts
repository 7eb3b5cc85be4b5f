import { keyLockSql, type SqlNames } from '../names.js';

/**
 * Due pending runs in claim order, locked without waiting as they are read: the claim function's
 * candidates. `now` is an SQL expression (the function's parameter; a placeholder in the plan
 * test). Only what the claim decides on is read; the chosen runs are updated as a set afterwards.
 */
export function claimCandidatesSql(n: SqlNames, now: string): string {
  // Queued runs of a busy key are left out here, so a backlog behind a long run is neither
  // locked nor walked on every claim.
  return `SELECT r.id, r.overlap, r.concurrency_key FROM ${n.runs} AS r
    WHERE r.status = 'pending' AND r.run_at <= ${now}
      AND (r.overlap <> 'queue' OR NOT EXISTS (
        SELECT 1 FROM ${n.runs} AS busy
        WHERE busy.concurrency_key = r.concurrency_key AND busy.status = 'running' AND busy.overlap <> 'allow'))
    ORDER BY r.priority, r.run_at, r.created_at, r.id
    FOR UPDATE OF r SKIP LOCKED`;
}

/**
 * Version 4: claims stop costing as much as the backlog. Version 1's claim sorted every due
 * pending run on each call (a backlog of 10 000 runs made a claim of 10 take about 25 ms) and
 * updated its runs one statement at a time. Here the pending runs have an index in claim order,
 * the candidates are read through a cursor (planned for its first rows, so that index is walked
 * only as far as the claim needs), and the claimed and skipped runs are each updated by one
 * statement. The decisions are version 1's: see its comment on exclusivity.
 */
export function claimOrderSql(n: SqlNames): string {
  const keyIsRunning = (key: string) => `EXISTS (
        SELECT 1 FROM ${n.runs} AS x
        WHERE x.concurrency_key = ${key} AND x.status = 'running' AND x.overlap <> 'allow')`;
  return `
CREATE INDEX IF NOT EXISTS ${n.index('runs_claim_order')} ON ${n.runs} (priority, run_at, created_at, id)
  WHERE status = 'pending';

CREATE OR REPLACE FUNCTION ${n.claimRuns}(p_worker text, p_now timestamptz, p_limit integer, p_lease_ms bigint)
RETURNS TABLE (outcome text, run ${n.runs})
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
  -- A declared cursor is planned for its first rows, which is what the loop below reads.
  candidates CURSOR FOR ${claimCandidatesSql(n, 'p_now')};
  claim_ids uuid[] := '{}';
  skip_ids uuid[] := '{}';
  busy text[] := '{}';
  is_busy boolean;
BEGIN
  IF p_limit <= 0 THEN
    RETURN;
  END IF;
  FOR candidate IN candidates LOOP
    EXIT WHEN cardinality(claim_ids) >= p_limit;
    IF candidate.overlap <> 'allow' THEN
      is_busy := candidate.concurrency_key = ANY (busy) OR ${keyIsRunning('candidate.concurrency_key')};
      IF NOT is_busy THEN
        CONTINUE WHEN NOT pg_try_advisory_xact_lock(${keyLockSql(n, 'candidate.concurrency_key')});
        is_busy := ${keyIsRunning('candidate.concurrency_key')};
      END IF;
      busy := array_append(busy, candidate.concurrency_key);
      IF is_busy THEN
        IF candidate.overlap = 'skip' THEN
          skip_ids := array_append(skip_ids, candidate.id);
        END IF;
        CONTINUE;
      END IF;
    END IF;
    claim_ids := array_append(claim_ids, candidate.id);
  END LOOP;

  IF cardinality(skip_ids) > 0 THEN
    UPDATE ${n.runs} AS r
    SET status = 'skipped',
        finished_at = p_now,
        error = jsonb_build_object('code', 'overlap', 'message',
          'skipped: a run with the same concurrency key was running (overlap "skip")')
    WHERE r.id = ANY (skip_ids);
    RETURN QUERY SELECT 'skipped'::text, r FROM ${n.runs} AS r
      WHERE r.id = ANY (skip_ids) ORDER BY array_position(skip_ids, r.id);
  END IF;
  IF cardinality(claim_ids) > 0 THEN
    UPDATE ${n.runs} AS r
    SET status = 'running',
        worker_id = p_worker,
        started_at = p_now,
        lease_until = p_now + p_lease_ms * interval '1 millisecond'
    WHERE r.id = ANY (claim_ids);
    RETURN QUERY SELECT 'claimed'::text, r FROM ${n.runs} AS r
      WHERE r.id = ANY (claim_ids) ORDER BY array_position(claim_ids, r.id);
  END IF;
END
$fn$;
`;
}
