import type { SqlNames } from '../names.js';
import { claimRunsFunctionSql } from './claim-runs-function.js';

/**
 * Version 5: a backlog queued on one concurrency key no longer costs every claim a walk through
 * it. In version 4 each claim read the queued runs of a busy key again (and, once the key freed,
 * locked every one of them), so draining n runs queued on one key took O(n²) row visits: 10 000
 * one-offs of one executor ran at about 5 a second. Now a claim that meets a queued run whose key
 * is busy parks it (`parked`, out of the claim-order index), and the key's first parked run is
 * unparked when no exclusive run holds the key. The claim's decisions are version 1's.
 *
 * `parked` is nullable on purpose: rows written by `INSERT … SELECT * FROM jsonb_populate_record`
 * (which sets every column it is not given to NULL) are unparked, with any version of the code.
 */
export function parkedRunsSql(n: SqlNames): string {
  return `
ALTER TABLE ${n.runs} ADD COLUMN IF NOT EXISTS parked boolean;

CREATE INDEX IF NOT EXISTS ${n.index('runs_claimable')} ON ${n.runs} (priority, run_at, created_at, id)
  WHERE status = 'pending' AND parked IS NOT TRUE;
CREATE INDEX IF NOT EXISTS ${n.index('runs_parked')} ON ${n.runs} (concurrency_key, priority, run_at, created_at, id)
  WHERE status = 'pending' AND parked;
DROP INDEX IF EXISTS ${n.index('runs_claim_order')};

${claimRunsFunctionSql(n, { firstInLine: false })}`;
}
