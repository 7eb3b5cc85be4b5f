import {
  compareCodePoints,
  type Job,
  type JobInput,
  type JobUpdate,
  jobAsSeenBy,
  NotFoundError,
  type Scheduler,
} from '@cronkeeper/core';
import { z } from 'zod';
import { HttpError } from '../errors.js';
import { etagOf, expectedVersion, requiresExisting } from '../preconditions.js';
import { jobResponse } from '../responses.js';
import { defineRoute, Reply, type RouteDef } from '../routing.js';
import {
  emptyBody,
  jobCreateBody,
  jobPatchBody,
  jobPutBody,
  jobsQuery,
  MAX_JOBS_PAGE,
  nameParams,
  pauseBody,
  scopeQuery,
  seedBody,
} from '../schemas.js';
import { jobForRead, jobForWrite, listScope, requireOperator, workingTenant } from '../scope.js';

/** Where a jobs page starts: after this job, in (name, tenant) order. */
const jobsCursor = z.tuple([z.string(), z.string().nullable()]);

/**
 * One page of jobs in (name, tenant) order, so no answer grows with the number of jobs; `next`
 * is the cursor of the page after it, or null on the last page.
 */
function jobsPage(jobs: Job[], limit: number, cursor: string | undefined) {
  const key = (job: Pick<Job, 'name' | 'tenantId'>) => JSON.stringify([job.name, job.tenantId]);
  const sorted = [...jobs].sort(
    (a, b) => compareCodePoints(a.name, b.name) || compareCodePoints(a.tenantId ?? '', b.tenantId ?? ''),
  );
  let start = 0;
  if (cursor !== undefined) {
    let after: z.infer<typeof jobsCursor>;
    try {
      after = jobsCursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    } catch {
      throw new HttpError(400, 'VALIDATION', 'query.cursor: is not a cursor returned by a previous page', {
        issues: [{ in: 'query', path: 'cursor', message: 'is not a cursor returned by a previous page' }],
      });
    }
    const [name, tenantId] = after;
    const past = sorted.findIndex(
      (job) =>
        compareCodePoints(job.name, name) > 0 ||
        (job.name === name && compareCodePoints(job.tenantId ?? '', tenantId ?? '') > 0),
    );
    start = past === -1 ? sorted.length : past;
  }
  const items = sorted.slice(start, start + limit);
  const last = items.at(-1);
  const next =
    start + limit < sorted.length && last ? Buffer.from(key(last), 'utf8').toString('base64url') : null;
  return { items, next };
}

function bodyField(path: string, message: string): HttpError {
  return new HttpError(400, 'VALIDATION', `body.${path}: ${message}`, {
    issues: [{ in: 'body', path, message }],
  });
}

/** What a job's `ETag` header is, for OpenAPI. */
const JOB_ETAG = "the job's version: send it back as `If-Match` to write only that version";

/** Job CRUD, seeding, reload, pause and resume. */
export function jobRoutes(scheduler: Scheduler): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/jobs',
      response: z.array(jobResponse),
      responseHeaders: { 'X-Next-Cursor': "the next page's cursor, when there is one: pass it as `cursor`" },
      action: 'jobs:read',
      tag: 'jobs',
      summary: 'List jobs (a tenant sees its own and the global ones)',
      query: jobsQuery,
      handle: async ({ query, tenant }) => {
        const jobs = await scheduler.jobs.list({
          ...listScope(tenant, query.tenantId, { globalVisible: true, includeGlobal: query.includeGlobal }),
          ...(query.enabled === undefined ? {} : { enabled: query.enabled }),
        });
        const page = jobsPage(jobs, query.limit ?? MAX_JOBS_PAGE, query.cursor);
        // Whatever scope it picked (`?tenantId=` alone lists the global jobs), a tenant sees them as a tenant.
        const items = tenant === null ? page.items : page.items.map((job) => jobAsSeenBy(job, tenant));
        return new Reply(200, items, page.next === null ? {} : { 'X-Next-Cursor': page.next });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/jobs',
      response: jobResponse,
      action: 'jobs:write',
      tag: 'jobs',
      summary: 'Create a job',
      status: 201,
      body: jobCreateBody,
      handle: async ({ body, tenant, actor }) => {
        const input = { ...body, tenantId: workingTenant(tenant, body.tenantId), createdBy: actor };
        return new Reply(201, await scheduler.jobs.create(input as JobInput));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/jobs/seed',
      action: 'scheduler:admin',
      tag: 'jobs',
      summary: 'Create the default jobs (or the ones given) that do not exist yet; idempotent',
      body: seedBody,
      handle: async ({ body, tenant, actor }) => {
        if (body.jobs === undefined) {
          requireOperator(tenant, 'seeding the default jobs');
          return scheduler.jobs.seed(undefined, { overwrite: body.overwrite ?? false });
        }
        const inputs = body.jobs.map((job) => ({
          ...job,
          tenantId: workingTenant(tenant, job.tenantId),
          createdBy: actor,
        }));
        return scheduler.jobs.seed(inputs as JobInput[], { overwrite: body.overwrite ?? false });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/reload',
      action: 'scheduler:admin',
      tag: 'jobs',
      summary: 'Re-read jobs and wake every instance',
      body: emptyBody,
      handle: async ({ tenant }) => {
        requireOperator(tenant, 'reloading the scheduler');
        await scheduler.reload();
        return { reloaded: true };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/jobs/:name',
      response: jobResponse,
      responseHeaders: { ETag: JOB_ETAG },
      action: 'jobs:read',
      tag: 'jobs',
      summary: 'One job',
      params: nameParams,
      query: scopeQuery,
      handle: async ({ params, query, tenant }) => {
        const job = await jobForRead(scheduler, params.name, tenant, query.tenantId);
        return new Reply(200, job, etagOf(job));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/jobs/:name',
      ifMatch: true,
      response: jobResponse,
      responseHeaders: { ETag: JOB_ETAG },
      action: 'jobs:write',
      tag: 'jobs',
      summary:
        'Change some fields of a job (next run recomputed when the timing changes); with If-Match or `version`, 409 if the job changed since it was read',
      params: nameParams,
      query: scopeQuery,
      body: jobPatchBody,
      handle: async ({ request, params, query, body, tenant, actor }) => {
        const version = expectedVersion(request, body.version);
        const job = await jobForWrite(scheduler, params.name, tenant, query.tenantId);
        const updated = await scheduler.jobs.update(
          job.name,
          { ...body, version, updatedBy: actor } as JobUpdate,
          { tenantId: job.tenantId },
        );
        return new Reply(200, updated, etagOf(updated));
      },
    }),
    defineRoute({
      method: 'put',
      path: '/jobs/:name',
      ifMatch: true,
      response: jobResponse,
      responseHeaders: { ETag: JOB_ETAG },
      otherStatuses: { '201': 'created: the tenant had no job of that name' },
      action: 'jobs:write',
      tag: 'jobs',
      summary:
        'Create the job if missing (201), else change the fields given (200); accepts the body GET answered; with If-Match or `version`, 409 if the job changed since it was read',
      params: nameParams,
      query: scopeQuery,
      body: jobPutBody,
      handle: async ({ request, params, query, body, tenant, actor }) => {
        if (body.name !== undefined && body.name !== params.name)
          throw bodyField('name', `must be the job's name in the path ("${params.name}"); rename with PATCH`);
        if (query.tenantId !== undefined && body.tenantId !== undefined && body.tenantId !== query.tenantId)
          throw bodyField('tenantId', 'must be the tenant in the query string, or be left out');
        // A body read from GET names its tenant; it then addresses the job the way ?tenantId= does.
        const requested = query.tenantId !== undefined ? query.tenantId : body.tenantId;
        const version = expectedVersion(request, body.version);
        // Only the working tenant's own job: a tenant's names are its own, so a global job of this
        // name is neither changed (it is read-only to tenants) nor in the way; as POST would, the
        // tenant gets its own job.
        const existing = await scheduler.jobs
          .get(params.name, { tenantId: workingTenant(tenant, requested) })
          .catch((error: unknown) => {
            if (error instanceof NotFoundError) return null;
            throw error;
          });
        if (existing) {
          const updated = await scheduler.jobs.update(
            existing.name,
            { ...body, version, updatedBy: actor } as JobUpdate,
            { tenantId: existing.tenantId },
          );
          return new Reply(200, updated, etagOf(updated));
        }
        requiresExisting(request, params.name);
        // A version in the body is of a job read elsewhere (an export applied to a new place).
        const { version: _version, ...definition } = body;
        const input = {
          ...definition,
          name: params.name,
          tenantId: workingTenant(tenant, requested),
          createdBy: actor,
        };
        const created = await scheduler.jobs.create(input as JobInput);
        return new Reply(201, created, etagOf(created));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/jobs/:name',
      action: 'jobs:write',
      tag: 'jobs',
      summary: 'Delete a job; its pending runs are cancelled, running ones finish',
      params: nameParams,
      query: scopeQuery,
      handle: async ({ params, query, tenant }) => {
        const job = await jobForWrite(scheduler, params.name, tenant, query.tenantId);
        await scheduler.jobs.delete(job.name, { tenantId: job.tenantId });
        return { deleted: true, name: job.name, tenantId: job.tenantId };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/jobs/:name/pause',
      response: jobResponse,
      action: 'jobs:write',
      tag: 'jobs',
      summary: 'Disable a job, with an optional note shown on dashboards',
      params: nameParams,
      query: scopeQuery,
      body: pauseBody,
      handle: async ({ params, query, body, tenant, actor }) => {
        const job = await jobForWrite(scheduler, params.name, tenant, query.tenantId);
        return scheduler.jobs.pause(job.name, body.note ?? null, { tenantId: job.tenantId, by: actor });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/jobs/:name/resume',
      response: jobResponse,
      action: 'jobs:write',
      tag: 'jobs',
      summary: 'Enable a paused job',
      params: nameParams,
      query: scopeQuery,
      body: emptyBody,
      handle: async ({ params, query, tenant, actor }) => {
        const job = await jobForWrite(scheduler, params.name, tenant, query.tenantId);
        return scheduler.jobs.resume(job.name, { tenantId: job.tenantId, by: actor });
      },
    }),
  ];
}
