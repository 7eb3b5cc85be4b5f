import { PROMETHEUS_CONTENT_TYPE, type Scheduler } from '@cronkeeper/core';
import type { TriggerLimiter } from '../rate-limit.js';
import { auditPageResponse, backfillResponse, healthResponse, previewResponse } from '../responses.js';
import { defineRoute, Reply, type RouteDef } from '../routing.js';
import { auditQuery, backfillBody, healthQuery, nameParams, previewBody, scopeQuery } from '../schemas.js';
import { jobForWrite, requireOperator, runScope } from '../scope.js';

/** `store.error` of `GET /health` when the store failed: a reason, without the driver's message. */
const STORE_UNREACHABLE = 'the store did not answer in time or refused the check';

/** The audit trail, schedule preview, backfill, health and metrics. */
export function operationRoutes(scheduler: Scheduler, limiter: TriggerLimiter): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/audit',
      response: auditPageResponse,
      action: 'audit:read',
      tag: 'operations',
      summary:
        'Who created, changed, paused, deleted or triggered what, newest first (a tenant sees its own)',
      query: auditQuery,
      handle: ({ query, tenant }) => {
        // A tenant reads its own entries only, never the global jobs' (see the threat model).
        const { tenantId } = runScope(tenant, query.tenantId);
        return scheduler.audit.list({
          ...(tenantId === undefined ? {} : { tenantId }),
          ...(query.job === undefined ? {} : { job: query.job }),
          ...(query.since === undefined ? {} : { since: query.since }),
          ...(query.limit === undefined ? {} : { limit: query.limit }),
          ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/jobs/preview',
      response: previewResponse,
      action: 'jobs:read',
      tag: 'jobs',
      summary: 'The next instants of a schedule and its description, without saving anything',
      body: previewBody,
      handle: ({ body }) => scheduler.preview(body),
    }),
    defineRoute({
      method: 'post',
      path: '/jobs/:name/backfill',
      response: backfillResponse,
      action: 'jobs:backfill',
      tag: 'jobs',
      summary:
        'One run per past slot of the job in [from, to) that has none yet (at most `limit`, 100 by default)',
      params: nameParams,
      query: scopeQuery,
      body: backfillBody,
      handle: async ({ params, query, body, tenant, actor }) => {
        const job = await jobForWrite(scheduler, params.name, tenant, query.tenantId);
        return scheduler.backfill({
          job: job.name,
          tenantId: job.tenantId,
          from: body.from,
          to: body.to,
          triggeredBy: actor,
          ...(body.limit === undefined ? {} : { limit: body.limit }),
          // Runs on demand, like a manual trigger: one request counts on the job's window and the
          // tenant's total, so a tenant cannot queue up slot after slot without bound. Counted once
          // the range is valid and fits the caps, so a refused backfill spends nothing.
          beforeCreate: () => limiter.hit({ job }, job.tenantId),
        });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/health',
      response: healthResponse,
      otherStatuses: { '503': 'not ok: the same `{ data }` report, for liveness probes' },
      action: 'health:read',
      tag: 'operations',
      summary:
        'Loop alive, store reachable, oldest due lag, stuck runs; 503 when not ok (for liveness probes); operators only',
      query: healthQuery,
      handle: async ({ query, tenant }) => {
        // Lag and stuck runs are counted over every tenant's jobs and runs: operators only.
        requireOperator(tenant, 'the health report');
        const report = await scheduler.health(query.maxLag === undefined ? {} : { maxLag: query.maxLag });
        // A probe may be anonymous: the driver's message (a host, a user, a path) stays on the server.
        const store = { ...report.store, error: report.store.error === null ? null : STORE_UNREACHABLE };
        return new Reply(report.ok ? 200 : 503, { ...report, store });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      action: 'metrics:read',
      tag: 'operations',
      summary:
        'Runs, durations, fire lag, missed and skipped slots, recoveries and queue depth as Prometheus text',
      raw: { contentType: PROMETHEUS_CONTENT_TYPE },
      handle: async ({ tenant }) => {
        // Every tenant's job names are labels: operators only.
        requireOperator(tenant, 'the metrics');
        return new Response(await scheduler.prometheusMetrics(), {
          status: 200,
          headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
        });
      },
    }),
  ];
}
