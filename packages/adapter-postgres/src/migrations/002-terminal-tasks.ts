import type { SqlNames } from '../names.js';

/**
 * A run that ends leaves no task pending or running: each such task takes the run's status. Core
 * sends the final tasks when it executed the run; every other way a run ends (cancelled while
 * pending, its job deleted, skipped by the overlap policy, recovered after its lease lapsed, swept
 * as stale) goes through this trigger, so no statement that ends a run can forget it.
 */
export function terminalTasksSql(n: SqlNames): string {
  return `
CREATE OR REPLACE FUNCTION ${n.endTasks}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.tasks := (
    SELECT coalesce(jsonb_agg(
             CASE WHEN t ->> 'status' IN ('pending', 'running')
                  THEN jsonb_set(t, '{status}', to_jsonb(NEW.status)) ELSE t END
             ORDER BY o), '[]'::jsonb)
    FROM jsonb_array_elements(NEW.tasks) WITH ORDINALITY AS e(t, o));
  RETURN NEW;
END
$fn$;

DROP TRIGGER IF EXISTS ${n.index('end_tasks')} ON ${n.runs};
CREATE TRIGGER ${n.index('end_tasks')}
  BEFORE UPDATE OF status ON ${n.runs}
  FOR EACH ROW
  WHEN (NEW.status IN ('succeeded', 'failed', 'cancelled', 'skipped')
        AND (NEW.tasks @> '[{"status": "pending"}]' OR NEW.tasks @> '[{"status": "running"}]'))
  EXECUTE FUNCTION ${n.endTasks}();
`;
}
