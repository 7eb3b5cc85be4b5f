import type { SqlNames } from '../names.js';
import { claimRunsFunctionSql } from './claim-runs-function.js';

/**
 * Version 6: the queued runs of a key start in claim order even when two instances claim at once.
 * A claim locks its candidates' rows before it takes their key's lock, so another claim could skip
 * the key's first queued run (its row locked) and start the second. The claim now starts a queued
 * run only when no earlier due queued run of its key is pending outside its view, found through an
 * index of each key's pending queued runs in claim order. Runs that skip or may overlap are not in
 * that index and are not checked, so they pay nothing for it (a check per skipping run cost a burst
 * of 100 cron runs about 15 ms).
 */
export function firstInLineSql(n: SqlNames): string {
  // Version 5 meant to drop this index, which nothing reads since, but named it without its schema,
  // so it stayed, and every write of a pending run kept updating it.
  return `
DROP INDEX IF EXISTS ${n.schemaSql}.${n.index('runs_claim_order')};

CREATE INDEX IF NOT EXISTS ${n.index('runs_key_claimable')} ON ${n.runs} (concurrency_key, priority, run_at, created_at, id)
  WHERE status = 'pending' AND parked IS NOT TRUE AND overlap = 'queue';

${claimRunsFunctionSql(n, { firstInLine: true })}`;
}
