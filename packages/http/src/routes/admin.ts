import type { Scheduler } from '@cronkeeper/core';
import { cleanupResponse, executorsResponse, runDueResponse, statsResponse } from '../responses.js';
import { defineRoute, type RouteDef } from '../routing.js';
import { dashboardQuery, MAX_JOBS_PAGE, olderThanBody, runDueBody, statsQuery } from '../schemas.js';
import { requireOperator, workingTenant } from '../scope.js';

/** The tenant a report covers: a confined tenant's own; an operator's pick, or every tenant. */
function reportTenant(tenant: string | null, requested: string | null | undefined) {
  if (tenant !== null) return { tenantId: workingTenant(tenant, requested) };
  return requested === undefined ? {} : { tenantId: requested };
}

/** Executor registry, heartbeat, maintenance, dashboard and stats. */
export function adminRoutes(scheduler: Scheduler): RouteDef[] {
  const executorsFor = (tenant: string | null) =>
    scheduler.executors().filter((executor) => tenant === null || !executor.builtIn);
  return [
    defineRoute({
      method: 'get',
      path: '/executors',
      response: executorsResponse,
      action: 'executors:read',
      tag: 'executors',
      summary: 'The executor registry: name, description, estimated duration, params as JSON Schema',
      handle: async ({ tenant }) => executorsFor(tenant),
    }),
    defineRoute({
      method: 'post',
      path: '/run-due',
      response: runDueResponse,
      action: 'scheduler:admin',
      tag: 'maintenance',
      summary: 'Fire and execute everything due (heartbeat / serverless mode) and summarise',
      body: runDueBody,
      handle: ({ body, tenant }) => {
        requireOperator(tenant, 'running due jobs');
        return scheduler.runDue(body.limit === undefined ? {} : { limit: body.limit });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/maintenance/cleanup-stale',
      response: cleanupResponse,
      action: 'scheduler:admin',
      tag: 'maintenance',
      summary: 'Mark runs still running after the threshold as failed',
      body: olderThanBody,
      handle: ({ body, tenant }) => {
        requireOperator(tenant, 'the stale-run sweep');
        return scheduler.cleanupStale(body.olderThan === undefined ? {} : { olderThan: body.olderThan });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/maintenance/prune',
      action: 'scheduler:admin',
      tag: 'maintenance',
      summary:
        'Delete finished runs and audit entries older than the threshold (pending runs are never pruned; a tenant prunes its runs only)',
      body: olderThanBody,
      handle: ({ body, tenant }) =>
        scheduler.prune({
          ...(body.olderThan === undefined ? {} : { olderThan: body.olderThan }),
          // A tenant prunes its own runs, never the audit trail that records what it did.
          ...(tenant === null ? {} : { tenantId: tenant, audit: false }),
        }),
    }),
    defineRoute({
      method: 'get',
      path: '/dashboard',
      action: 'stats:read',
      tag: 'reports',
      summary: 'Per-job and per-executor view: last run, status, duration, counts, next run',
      query: dashboardQuery,
      handle: async ({ query, tenant }) => {
        const view = await scheduler.dashboard({
          ...reportTenant(tenant, query.tenantId),
          ...(query.locale === undefined ? {} : { locale: query.locale }),
        });
        const visible = new Set(executorsFor(tenant).map((executor) => executor.name));
        // A hard cap, so one answer never grows with the number of jobs: `jobsTotal` says how many exist.
        return {
          ...view,
          jobs: view.jobs.slice(0, MAX_JOBS_PAGE),
          jobsTotal: view.jobs.length,
          executors: view.executors.filter((executor) => visible.has(executor.name)),
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/stats',
      response: statsResponse,
      action: 'stats:read',
      tag: 'reports',
      summary: 'KPIs over 24 h and the per-day timeline',
      query: statsQuery,
      handle: ({ query, tenant }) =>
        scheduler.stats({
          ...reportTenant(tenant, query.tenantId),
          ...(query.days === undefined ? {} : { days: query.days }),
          ...(query.since === undefined ? {} : { since: query.since }),
        }),
    }),
  ];
}
