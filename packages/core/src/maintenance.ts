import { z } from 'zod';
import type { CleanupStaleResult, JobInput, PruneResult } from './api.js';
import type { Executor } from './executor.js';
import { defineExecutor } from './executors.js';
import { durationSchema } from './validation.js';

/** Registry name of the built-in stale-run sweep. */
export const CLEANUP_STALE_EXECUTOR = 'cronkeeper.cleanupStale';
/** Registry name of the built-in retention job. */
export const PRUNE_EXECUTOR = 'cronkeeper.prune';

/** The two maintenance jobs `jobs.seed()` installs: the stale-run sweep at 02:00 UTC, pruning at 03:00 UTC. */
export const MAINTENANCE_JOBS: readonly JobInput[] = [
  {
    name: 'daily-cleanup-2am',
    description: 'Daily cleanup of stale in-progress runs at 2 AM UTC',
    schedule: '0 2 * * *',
    timezone: 'UTC',
    executor: CLEANUP_STALE_EXECUTOR,
  },
  {
    name: 'daily-prune-3am',
    description: 'Daily removal of finished runs older than the retention at 3 AM UTC',
    schedule: '0 3 * * *',
    timezone: 'UTC',
    executor: PRUNE_EXECUTOR,
  },
];

type Scope = { olderThan?: string | number; tenantId?: string | null; audit?: boolean };

interface MaintenanceTarget {
  cleanupStale(options: Scope): Promise<CleanupStaleResult>;
  prune(options: Scope): Promise<PruneResult>;
}

/**
 * What a maintenance run may touch: a global run sweeps every tenant (the operator's job); a run
 * that belongs to a tenant only that tenant's runs, whoever created its job.
 */
function scopeOf(ctx: { params: { olderThan?: string | number }; tenantId: string | null }): Scope {
  return {
    ...(ctx.params.olderThan === undefined ? {} : { olderThan: ctx.params.olderThan }),
    ...(ctx.tenantId === null ? {} : { tenantId: ctx.tenantId }),
  };
}

/** The built-in executors, bound to the scheduler they maintain. */
export function maintenanceExecutors(
  target: MaintenanceTarget,
): Record<string, Executor<{ olderThan?: string | number }>> {
  const params = z.object({ olderThan: durationSchema.optional() });
  return {
    [CLEANUP_STALE_EXECUTOR]: defineExecutor({
      description: 'Marks runs stuck "running" longer than the threshold as failed (default 3 days)',
      params,
      estimatedDuration: '1s',
      run: async (ctx) => {
        const summary = await target.cleanupStale(scopeOf(ctx));
        ctx.log.info(`${summary.updated} stale run(s) marked failed (${summary.jobs.join(', ') || 'none'})`);
        return { ...summary, threshold: summary.threshold.toISOString() };
      },
    }),
    [PRUNE_EXECUTOR]: defineExecutor({
      description:
        'Deletes finished runs and audit entries older than the retention (default 30 days); pending runs are kept',
      params,
      estimatedDuration: '1s',
      run: async (ctx) => {
        // A tenant's run prunes that tenant's runs, never the audit trail that records its changes.
        const result = await target.prune({
          ...scopeOf(ctx),
          ...(ctx.tenantId === null ? {} : { audit: false }),
        });
        ctx.log.info(`${result.deleted} finished run(s) and ${result.auditDeleted} audit entr(ies) pruned`);
        return {
          deleted: result.deleted,
          auditDeleted: result.auditDeleted,
          threshold: result.threshold.toISOString(),
        };
      },
    }),
  };
}
