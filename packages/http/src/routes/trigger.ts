import { type Clock, ConflictError, NotFoundError, type Run, type Scheduler } from '@cronkeeper/core';
import { HttpError } from '../errors.js';
import type { TriggerLimiter } from '../rate-limit.js';
import { runResponse } from '../responses.js';
import { defineRoute, Reply, type RouteDef } from '../routing.js';
import { nameParams, scopeQuery, triggerBody } from '../schemas.js';
import { jobForWrite, runFor, workingTenant } from '../scope.js';

/**
 * The run in the way of a manual trigger: running, or pending and already due. Looked up before
 * the rate limits are counted so that a run in the way answers 409 without spending a trigger.
 * The store's `createRun` still decides atomically; this read only orders the answers.
 */
async function activeRun(
  scheduler: Scheduler,
  filter: { job: string } | { executor: string },
  tenantId: string | null,
  now: Date,
): Promise<Run | null> {
  const { items } = await scheduler.runs.list({
    ...filter,
    tenantId,
    status: ['running', 'pending'],
    limit: 200,
  });
  const alone = 'executor' in filter;
  return (
    items.find(
      (run) =>
        (!alone || run.jobId === null) &&
        (run.status === 'running' || new Date(run.runAt).getTime() <= now.getTime()),
    ) ?? null
  );
}

/** An executor a request may run: registered, and not a built-in maintenance one for a tenant. */
export function visibleExecutor(
  scheduler: Scheduler,
  name: string,
  tenant: string | null,
  options: { mustExist: boolean } = { mustExist: true },
) {
  const info = scheduler.executors().find((executor) => executor.name === name);
  if (!info) {
    if (options.mustExist) throw new NotFoundError('executor', name);
    return null;
  }
  if (info.builtIn && tenant !== null)
    throw new HttpError(403, 'FORBIDDEN', `executor "${name}" is built in and runs for every tenant`);
  return info;
}

/** `POST /jobs/:name/trigger` and `POST /executors/:name/trigger`: run now, answered 202. */
export function triggerRoutes(scheduler: Scheduler, limiter: TriggerLimiter, clock: Clock): RouteDef[] {
  return [
    defineRoute({
      method: 'post',
      path: '/jobs/:name/trigger',
      response: runResponse,
      action: 'jobs:trigger',
      tag: 'runs',
      summary: 'Run a job now (409 if it is running, 429 when over the limits)',
      status: 202,
      params: nameParams,
      query: scopeQuery,
      body: triggerBody,
      handle: async ({ params, query, body, tenant, actor }) => {
        const job = await jobForWrite(scheduler, params.name, tenant, query.tenantId);
        const run = await scheduler.trigger({
          job: job.name,
          tenantId: job.tenantId,
          triggeredBy: actor,
          force: body.force ?? false,
          ...(body.params ? { params: body.params as Run['params'] } : {}),
          // Core calls this once the params are valid: 400s and 404s never spend a trigger.
          beforeCreate: async () => {
            if (!body.force && job.overlap !== 'allow') {
              const active = await activeRun(scheduler, { job: job.name }, job.tenantId, clock.now());
              if (active) throw ConflictError.activeRun(job.name, active);
            }
            await limiter.hit({ job }, job.tenantId);
          },
        });
        return new Reply(202, runFor(tenant, run));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/executors/:name/trigger',
      response: runResponse,
      action: 'executors:trigger',
      tag: 'runs',
      summary: 'Run an executor now, outside any job (409 if one is running, 429 when over the limits)',
      status: 202,
      params: nameParams,
      query: scopeQuery,
      body: triggerBody,
      handle: async ({ params, query, body, tenant, actor }) => {
        const tenantId = workingTenant(tenant, query.tenantId);
        visibleExecutor(scheduler, params.name, tenant);
        const run = await scheduler.trigger({
          executor: params.name,
          tenantId,
          triggeredBy: actor,
          force: body.force ?? false,
          ...(body.params ? { params: body.params as Run['params'] } : {}),
          beforeCreate: async () => {
            if (!body.force) {
              const active = await activeRun(scheduler, { executor: params.name }, tenantId, clock.now());
              if (active) throw ConflictError.activeRun(params.name, active);
            }
            await limiter.hit({ executor: params.name }, tenantId);
          },
        });
        return new Reply(202, runFor(tenant, run));
      },
    }),
  ];
}
