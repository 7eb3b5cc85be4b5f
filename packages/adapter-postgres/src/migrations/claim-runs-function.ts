import { keyLockSql, type SqlNames } from '../names.js';

/**
 * Due pending runs in claim order, locked without waiting as they are read: the claim function's
 * candidates. Parked runs (queued behind a busy key) are not among them, so a backlog on one key
 * is walked once, when it is parked, rather than on every claim.
 */
export function claimCandidatesSql(n: SqlNames, now: string): string {
  return `SELECT r.id, r.overlap, r.concurrency_key, r.priority, r.run_at, r.created_at FROM ${n.runs} AS r
    WHERE r.status = 'pending' AND r.parked IS NOT TRUE AND r.run_at <= ${now}
    ORDER BY r.priority, r.run_at, r.created_at, r.id
    FOR UPDATE OF r SKIP LOCKED`;
}

/**
 * The first parked run of each key that no exclusive run holds any more is unparked: one
 * statement, run at the start of every claim (so a finish-and-claim claims the run queued behind
 * the run it finished). The keys are read by skipping through the parked index, one probe per key
 * with parked runs, however long their backlogs.
 */
export function releaseParkedSql(n: SqlNames): string {
  // Each step reads the first parked run of the next key in the index's own order, so it is one
  // probe of that index (no other index gives this order) and its run is the key's first in line.
  const nextHead = (after: string) => `SELECT p.concurrency_key, p.id FROM ${n.runs} AS p
      WHERE p.status = 'pending' AND p.parked${after}
      ORDER BY p.concurrency_key, p.priority, p.run_at, p.created_at, p.id LIMIT 1`;
  return `WITH RECURSIVE parked_keys(k, id) AS (
    (${nextHead('')})
    UNION ALL
    SELECT next.concurrency_key, next.id FROM parked_keys
    CROSS JOIN LATERAL (${nextHead(' AND p.concurrency_key > parked_keys.k')}) AS next
  ), heads AS (
    SELECT parked_keys.id FROM parked_keys
    -- The key's claim lock, as the claim loop takes it, held to the end of the transaction: no
    -- other claim releases or starts a run of this key meanwhile, so the head is released once
    -- and runs before the runs behind it. A key another claim holds is left to that claim.
    -- (A scalar subquery with LIMIT, so it stays one probe of runs_exclusive per key rather than
    -- being planned as a hashed scan of every running run.)
    WHERE CASE
      WHEN (SELECT 1 FROM ${n.runs} AS x
        WHERE x.concurrency_key = parked_keys.k AND x.status = 'running' AND x.overlap <> 'allow' LIMIT 1) = 1
      THEN false
      ELSE pg_try_advisory_xact_lock(${keyLockSql(n, 'parked_keys.k')})
    END
  ), free AS (
    -- A head another transaction holds (a cancel in progress, a host's open transaction) is left
    -- for a later claim: a claim never waits for a row lock, which could stall it behind the
    -- host's transaction or deadlock with it.
    SELECT h.id FROM ${n.runs} AS h
    WHERE h.id IN (SELECT heads.id FROM heads) AND h.status = 'pending' AND h.parked
    FOR UPDATE SKIP LOCKED
  )
  UPDATE ${n.runs} AS r SET parked = false FROM free WHERE r.id = free.id`;
}

const keyIsRunning = (n: SqlNames, key: string) => `EXISTS (
        SELECT 1 FROM ${n.runs} AS x
        WHERE x.concurrency_key = ${key} AND x.status = 'running' AND x.overlap <> 'allow')`;

/**
 * The first queued run (overlap `queue`) of key `key` in claim order that is pending, unparked and
 * due at `now` (each an SQL expression): its priority, run_at, created_at and id. One probe of the
 * key's claim-order index however long the queue (the order and limit are what make it that index,
 * rather than a walk of every due run looking for the key).
 */
export function headOfLineSql(n: SqlNames, key: string, now: string, into = ''): string {
  return `SELECT e.priority, e.run_at, e.created_at, e.id${into && ` INTO ${into}`} FROM ${n.runs} AS e
          WHERE e.concurrency_key = ${key} AND e.status = 'pending' AND e.parked IS NOT TRUE
            AND e.overlap = 'queue' AND e.run_at <= ${now}
          ORDER BY e.priority, e.run_at, e.created_at, e.id LIMIT 1`;
}

/**
 * A queued run of the candidate's key that is due and comes first in claim order, yet was not among
 * this claim's candidates: another transaction holds its row (a claim that has not yet taken the
 * key's lock, a cancel, a host's transaction). The candidate waits for it, as it would behind a run
 * this claim had seen: otherwise two instances claiming at once could start the second run of a
 * queue before the first. Left pending (not parked, as the key is not running), it is looked at
 * again by the next claim. Only queues are kept in order: a run that skips when its key is busy
 * pays nothing for it.
 */
function firstInLineCheck(n: SqlNames): string {
  return `${headOfLineSql(n, 'candidate.concurrency_key', 'p_now', 'first_in_line')};
        IF first_in_line.id IS NOT NULL
          AND (first_in_line.priority, first_in_line.run_at, first_in_line.created_at, first_in_line.id)
            < (candidate.priority, candidate.run_at, candidate.created_at, candidate.id) THEN
          CONTINUE;
        END IF;
        `;
}

/**
 * The claim function. Version 5 defined it; version 6 adds the first-in-line check. Both versions
 * are built here so that each migration's text stays what it shipped as while sharing one body.
 */
export function claimRunsFunctionSql(n: SqlNames, options: { firstInLine: boolean }): string {
  return `CREATE OR REPLACE FUNCTION ${n.claimRuns}(p_worker text, p_now timestamptz, p_limit integer, p_lease_ms bigint)
RETURNS TABLE (outcome text, run ${n.runs})
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
  -- A declared cursor is planned for its first rows, which is what the loop below reads.
  candidates CURSOR FOR ${claimCandidatesSql(n, 'p_now')};
  claim_ids uuid[] := '{}';
  skip_ids uuid[] := '{}';
  park_ids uuid[] := '{}';
  busy text[] := '{}';
  is_busy boolean;
  head record;${options.firstInLine ? '\n  first_in_line record;' : ''}
BEGIN
  IF p_limit <= 0 THEN
    RETURN;
  END IF;
  ${releaseParkedSql(n)};
  FOR candidate IN candidates LOOP
    EXIT WHEN cardinality(claim_ids) >= p_limit;
    IF candidate.overlap <> 'allow' THEN
      is_busy := candidate.concurrency_key = ANY (busy) OR ${keyIsRunning(n, 'candidate.concurrency_key')};
      IF NOT is_busy THEN
        CONTINUE WHEN NOT pg_try_advisory_xact_lock(${keyLockSql(n, 'candidate.concurrency_key')});
        is_busy := ${keyIsRunning(n, 'candidate.concurrency_key')};
      END IF;
      busy := array_append(busy, candidate.concurrency_key);
      IF is_busy THEN
        IF candidate.overlap = 'skip' THEN
          skip_ids := array_append(skip_ids, candidate.id);
        ELSE
          park_ids := array_append(park_ids, candidate.id);
        END IF;
        CONTINUE;
      END IF;
      IF candidate.overlap = 'queue' THEN
        ${options.firstInLine ? firstInLineCheck(n) : ''}-- The key freed after the release above read it (a finish committed in between): a run
        -- parked behind the last one is still first in line and starts instead of this one.
        SELECT p.id, p.priority, p.run_at, p.created_at INTO head FROM ${n.runs} AS p
          WHERE p.concurrency_key = candidate.concurrency_key AND p.status = 'pending' AND p.parked
          ORDER BY p.priority, p.run_at, p.created_at, p.id LIMIT 1;
        IF head.id IS NOT NULL AND head.run_at <= p_now
          AND (head.priority, head.run_at, head.created_at, head.id)
            < (candidate.priority, candidate.run_at, candidate.created_at, candidate.id) THEN
          park_ids := array_append(park_ids, candidate.id);
          -- Taken only if no other transaction holds it; otherwise the key waits for a later claim.
          PERFORM 1 FROM ${n.runs} AS p
            WHERE p.id = head.id AND p.status = 'pending' AND p.parked FOR UPDATE SKIP LOCKED;
          IF FOUND THEN
            claim_ids := array_append(claim_ids, head.id);
          END IF;
          CONTINUE;
        END IF;
      END IF;
    END IF;
    claim_ids := array_append(claim_ids, candidate.id);
  END LOOP;

  IF cardinality(park_ids) > 0 THEN
    UPDATE ${n.runs} AS r SET parked = true WHERE r.id = ANY (park_ids);
  END IF;
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
        parked = false,
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
