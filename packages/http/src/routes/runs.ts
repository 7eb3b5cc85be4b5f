import {
  type Clock,
  NotFoundError,
  type Run,
  type RunListFilter,
  type Scheduler,
  type ScheduleTarget,
} from '@cronkeeper/core';
import type { TriggerLimiter } from '../rate-limit.js';
import { runPageResponse, runResponse } from '../responses.js';
import { defineRoute, Reply, type RouteDef } from '../routing.js';
import { emptyBody, idParams, runsQuery, scheduleBody, scheduledQuery, scopeQuery } from '../schemas.js';
import { jobForWrite, runFor, runPageFor, runScope, workingTenant } from '../scope.js';
import { visibleExecutor } from './trigger.js';

/** A tenant reads and cancels its own runs only; an operator any run. */
const ownRuns = (tenant: string | null) => (tenant === null ? {} : { tenantId: tenant });

/** Run history, one-off runs and cancellation. */
export function runRoutes(scheduler: Scheduler, limiter: TriggerLimiter, clock: Clock): RouteDef[] {
  // A one-off due within a limit's window is a trigger by another name: it counts like one.
  const countNearTerm = (target: ScheduleTarget) =>
    limiter.hit(target.job ? { job: target.job } : { executor: target.executor as string }, target.tenantId, {
      inMs: target.at.getTime() - clock.now().getTime(),
    });
  return [
    defineRoute({
      method: 'get',
      path: '/runs',
      response: runPageResponse,
      action: 'runs:read',
      tag: 'runs',
      summary: 'Run history, newest first, with filters and a cursor',
      query: runsQuery,
      handle: async ({ query, tenant }) => {
        const { tenantId: _requested, ...filters } = query;
        return runPageFor(
          tenant,
          await scheduler.runs.list({ ...runScope(tenant, query.tenantId), ...filters } as RunListFilter),
        );
      },
    }),
    defineRoute({
      method: 'get',
      path: '/runs/:id',
      response: runResponse,
      action: 'runs:read',
      tag: 'runs',
      summary: 'One run, with its tasks and logs',
      params: idParams,
      handle: async ({ params, tenant }) =>
        runFor(tenant, await scheduler.runs.get(params.id, ownRuns(tenant))),
    }),
    defineRoute({
      method: 'post',
      path: '/runs/:id/cancel',
      response: runResponse,
      action: 'runs:cancel',
      tag: 'runs',
      summary: 'Cancel a pending run, or ask a running one to stop (409 if it already ended)',
      params: idParams,
      body: emptyBody,
      handle: async ({ params, tenant, actor }) =>
        runFor(tenant, await scheduler.cancel(params.id, { by: actor, ...ownRuns(tenant) })),
    }),
    defineRoute({
      method: 'post',
      path: '/scheduled',
      response: runResponse,
      action: 'runs:schedule',
      tag: 'scheduled',
      summary:
        'Schedule a one-off run of a job or an executor at a future instant (also needs jobs:trigger or executors:trigger)',
      status: 201,
      query: scopeQuery,
      body: scheduleBody,
      handle: async ({ query, body, tenant, actor, authorizeAlso }) => {
        // A one-off is a trigger at a later time, which may be a second away: it needs its
        // target's trigger action too, or runs:schedule would run what a trigger refuses.
        if (body.job !== undefined) await authorizeAlso('jobs:trigger');
        if (body.executor !== undefined) await authorizeAlso('executors:trigger');
        const base = {
          at: body.at,
          createdBy: actor,
          beforeCreate: countNearTerm,
          ...(body.params ? { params: body.params as Run['params'] } : {}),
        };
        if (body.job !== undefined && body.executor === undefined) {
          const job = await jobForWrite(scheduler, body.job, tenant, query.tenantId);
          const run = await scheduler.schedule({ ...base, job: job.name, tenantId: job.tenantId });
          return new Reply(201, runFor(tenant, run));
        }
        if (body.executor !== undefined && body.job === undefined)
          visibleExecutor(scheduler, body.executor, tenant, { mustExist: false });
        // Neither or both targets: core names the field in its ValidationError.
        const run = await scheduler.schedule({
          ...base,
          ...(body.job === undefined ? {} : { job: body.job }),
          ...(body.executor === undefined ? {} : { executor: body.executor }),
          tenantId: workingTenant(tenant, query.tenantId),
        });
        return new Reply(201, runFor(tenant, run));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/scheduled',
      response: runPageResponse,
      action: 'runs:read',
      tag: 'scheduled',
      summary: 'One-off runs (trigger `once`), filtered by status',
      query: scheduledQuery,
      handle: async ({ query, tenant }) => {
        const { tenantId: _requested, ...filters } = query;
        const page = await scheduler.runs.list({
          ...runScope(tenant, query.tenantId),
          ...filters,
          trigger: 'once',
        } as RunListFilter);
        return runPageFor(tenant, page);
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/scheduled/:id',
      response: runResponse,
      action: 'runs:cancel',
      tag: 'scheduled',
      summary: 'Cancel a one-off run',
      params: idParams,
      handle: async ({ params, tenant, actor }) => {
        const run = await scheduler.runs.get(params.id, ownRuns(tenant));
        if (run.trigger !== 'once') throw new NotFoundError('run', params.id);
        return runFor(tenant, await scheduler.cancel(run.id, { by: actor, ...ownRuns(tenant) }));
      },
    }),
  ];
}
