import type { SqlNames } from '../names.js';

/**
 * Version 3: the audit trail, auto-pause bookkeeping on jobs, and the `backfill` trigger.
 * Audit entries are numbered by a sequence, so entries recorded at the same instant list in the
 * order they were written; listings walk (at, seq) newest first on an index per filter.
 */
export function operationsSql(n: SqlNames): string {
  return `
ALTER TABLE ${n.jobs} ADD COLUMN IF NOT EXISTS auto_pause jsonb;
ALTER TABLE ${n.jobs} ADD COLUMN IF NOT EXISTS consecutive_failures integer NOT NULL DEFAULT 0;

-- The trigger check of version 1 has a generated name: find it by what it checks.
DO $do$
DECLARE
  check_name text;
BEGIN
  FOR check_name IN
    SELECT c.conname FROM pg_constraint AS c
    WHERE c.conrelid = '${n.runs}'::regclass AND c.contype = 'c'
      AND pg_get_constraintdef(c.oid) LIKE '%trigger%'
  LOOP
    EXECUTE format('ALTER TABLE ${n.runs} DROP CONSTRAINT %I', check_name);
  END LOOP;
END
$do$;
ALTER TABLE ${n.runs} ADD CONSTRAINT ${n.index('runs_trigger')}
  CHECK (trigger IN ('schedule', 'manual', 'once', 'retry', 'backfill'));

CREATE TABLE IF NOT EXISTS ${n.audit} (
  seq       bigserial PRIMARY KEY,
  at        timestamptz NOT NULL,
  actor     text,
  action    text NOT NULL CHECK (action IN ('created', 'updated', 'paused', 'resumed', 'deleted', 'seeded', 'triggered')),
  job       text,
  tenant_id text,
  before    jsonb,
  after     jsonb,
  note      text
);
-- listAudit: newest first, keyset-paged on (at, seq); per job name and per tenant. pruneAudit: by at.
CREATE INDEX IF NOT EXISTS ${n.index('audit_at')} ON ${n.audit} (at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS ${n.index('audit_job')} ON ${n.audit} (job, at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS ${n.index('audit_tenant')} ON ${n.audit} (tenant_id, at DESC, seq DESC);
`;
}
