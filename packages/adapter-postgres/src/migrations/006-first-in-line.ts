import type { SqlNames } from '../names.js';
import { claimRunsFunctionSql } from './claim-runs-function.js';

/**
 * Version 6: the runs of a key start in claim order even when two instances claim at once. A
 * claim locks its candidates' rows before it takes their key's lock, so another claim could skip
 * the key's first run (its row locked) and start the second. The claim now lets a run of an
 * exclusive key start only when no earlier due run of that key is pending outside its view, found
 * through an index of the pending runs of each key in claim order. Runs that may overlap (`allow`)
 * hold no key and are left out of that index, so a queue of them pays nothing for it.
 */
export function firstInLineSql(n: SqlNames): string {
  // Version 5 meant to drop this index, which nothing reads since, but named it without its schema,
  // so it stayed, and every write of a pending run kept updating it.
  return `
DROP INDEX IF EXISTS ${n.schemaSql}.${n.index('runs_claim_order')};

CREATE INDEX IF NOT EXISTS ${n.index('runs_key_claimable')} ON ${n.runs} (concurrency_key, priority, run_at, created_at, id)
  WHERE status = 'pending' AND parked IS NOT TRUE AND overlap <> 'allow';

${claimRunsFunctionSql(n, { firstInLine: true })}`;
}
